// Hacking tools: potentially unwanted in a production image (category "hacktool": kind pua).
// Each rule needs strings that only the tool itself carries.

rule HackTool_Nmap {
  meta:
    category = "hacktool"
    severity = "medium"
    description = "Nmap network scanner"
    reference = "https://nmap.org/"
    date = "2026-12-04"
  strings:
    $site = "https://nmap.org/book/man.html"
    $xmas = "Nmap wishes you a merry Christmas"
    $scanme = "scanme.nmap.org"
  condition:
    uint32(0) == 0x464c457f and 2 of them
}

rule HackTool_Hydra {
  meta:
    category = "hacktool"
    severity = "medium"
    description = "THC Hydra network login brute forcer"
    reference = "https://github.com/vanhauser-thc/thc-hydra"
    date = "2026-12-04"
  strings:
    $repo = "github.com/vanhauser-thc/thc-hydra"
    $banner = "Hydra - THC password cracker"
  condition:
    uint32(0) == 0x464c457f and all of them
}

rule HackTool_John {
  meta:
    category = "hacktool"
    severity = "medium"
    description = "John the Ripper password cracker"
    reference = "https://www.openwall.com/john/"
    date = "2026-12-04"
  strings:
    $banner = "John the Ripper password cracker"
    $pot = "john.pot"
  condition:
    uint32(0) == 0x464c457f and all of them
}

rule HackTool_Masscan {
  meta:
    category = "hacktool"
    severity = "medium"
    description = "Masscan port scanner"
    reference = "https://github.com/robertdavidgraham/masscan"
    date = "2026-12-04"
  strings:
    $format = "masscan/1.1"
    $nmap = "masscan --nmap"
  condition:
    uint32(0) == 0x464c457f and all of them
}

rule HackTool_Tunnel {
  meta:
    category = "hacktool"
    severity = "medium"
    description = "Tunnelling / reverse proxy tool (chisel, frp)"
    reference = "https://attack.mitre.org/techniques/T1572/"
    date = "2026-12-04"
  strings:
    $chisel = "github.com/jpillora/chisel"
    $frp = "github.com/fatedier/frp"
  condition:
    uint32(0) == 0x464c457f and any of them
}

rule HackTool_Credential_Dumper {
  meta:
    category = "hacktool"
    severity = "high"
    description = "Credential dumper (mimikatz, LaZagne, mimipenguin)"
    reference = "https://attack.mitre.org/techniques/T1003/"
    date = "2026-12-04"
  strings:
    $sekurlsa = "sekurlsa::logonpasswords" nocase
    $lazagne = "lazagne" nocase fullword
    $mimipenguin = "mimipenguin" nocase
  condition:
    filesize < 20MB and any of them
}

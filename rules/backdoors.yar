// Backdoors: reverse shells in scripts, webshells, preload rootkit hooks, and persistence that
// downloads and runs code.

rule Backdoor_Reverse_Shell {
  meta:
    category = "backdoor"
    severity = "critical"
    description = "Reverse shell (bash /dev/tcp, nc -e, mkfifo pipe, python/perl socket to a shell)"
    reference = "https://attack.mitre.org/techniques/T1059/004/"
    date = "2026-12-04"
  strings:
    $bash_tcp = /(ba)?sh\s+-i\s*[>&]+\s*\/dev\/(tcp|udp)\/[^\s\/]+\/[0-9]{1,5}/
    $dev_tcp_redirect = /\/dev\/tcp\/[^\s\/]+\/[0-9]{1,5}\s+0>&1/
    $nc_e = /\b(nc|ncat|netcat)(\.traditional)?\s+(-[a-z]+\s+)*-e\s+\/bin\/(ba)?sh/
    $mkfifo = /mkfifo\s+\S+\s*;\s*(cat|tail)\s[^\n]{0,80}\|\s*\/bin\/(ba)?sh\s+-i[^\n]{0,80}\|\s*(nc|ncat|openssl)/
    $python = /socket\.socket\([^\n]{0,200}\.connect\(\([^\n]{0,300}(pty\.spawn\(|subprocess\.call\(\[?["']\/bin\/(ba)?sh)/
    $perl = /socket\(S,PF_INET[^\n]{0,300}exec\(["']\/bin\/(ba)?sh -i/
  condition:
    filesize < 2MB and any of them
}

rule Backdoor_Webshell {
  meta:
    category = "webshell"
    severity = "critical"
    description = "Webshell: evaluates or executes what the HTTP request sends"
    reference = "https://attack.mitre.org/techniques/T1505/003/"
    date = "2026-12-04"
  strings:
    $php = /(eval|assert|system|passthru|shell_exec|popen|proc_open|exec)\s*\(\s*(base64_decode\s*\(\s*|gzinflate\s*\(\s*|str_rot13\s*\(\s*)*\$_(GET|POST|REQUEST|COOKIE|SERVER\[.HTTP_)/ nocase
    $jsp = /Runtime\.getRuntime\(\)\.exec\(\s*request\.getParameter\(/
    $aspx = /(eval|Process\.Start)\s*\(\s*Request(\.Item|\.Form|\.QueryString)?\s*\[/
  condition:
    // Only in server pages: scanners (nmap's NSE scripts) carry the same code as attack payloads.
    filesize < 2MB and any of them and
    (filename matches /\.(php[0-9]?|phtml|pht|inc|jspx?|aspx?|ashx|asmx)$/i or
     uint16(0) == 0x3f3c or uint16(0) == 0x253c)
}

rule Rootkit_LdSoPreload {
  meta:
    category = "rootkit"
    severity = "high"
    description = "/etc/ld.so.preload injects a library into every process (a userland rootkit hook)"
    reference = "https://attack.mitre.org/techniques/T1574/006/"
    date = "2026-12-04"
  condition:
    filepath == "etc/ld.so.preload" and filesize > 0
}

rule Persistence_Download_And_Run {
  meta:
    category = "backdoor"
    severity = "critical"
    description = "Cron job or systemd unit that downloads code and runs it"
    reference = "https://attack.mitre.org/techniques/T1053/003/"
    date = "2026-12-04"
  strings:
    $pipe = /(curl|wget)\s[^\n]{0,200}\|\s*(ba|da|z)?sh\b/
    $exec = /(curl|wget)\s[^\n]{0,200}(-o|-O)\s*\S+[^\n]{0,100}(&&|;)\s*(chmod\s+\S+\s+\S+\s*(&&|;)\s*)?(\.\/|\/tmp\/|\/var\/tmp\/|\/dev\/shm\/)\S+/
  condition:
    filesize < 1MB and
    (filepath matches /^(etc\/cron[^\/]*\/|var\/spool\/cron\/|etc\/crontab$)/ or
     filepath matches /^(etc|usr\/lib|lib)\/systemd\/(system|user)\/[^!]+\.(service|timer)$/) and
    any of them
}

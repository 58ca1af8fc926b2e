// Malicious package install hooks: npm lifecycle scripts and Python setup.py files that fetch and
// run code or send the environment away.

rule Npm_Install_Hook_Fetch_And_Run {
  meta:
    category = "malware"
    severity = "critical"
    description = "npm preinstall/install/postinstall script that downloads and runs code"
    reference = "https://attack.mitre.org/techniques/T1195/002/"
    date = "2026-12-04"
  strings:
    // The script is a JSON string, so `\"` may occur in it. `node -e` alone is no sign:
    // core-js, one of the most installed packages, runs
    // `node -e "try{require('./postinstall')}catch(e){}"`; spawning a process is.
    $hook = /"(pre|post)?install"\s*:\s*"([^"\\]|\\.){0,500}(curl|wget|https?:\/\/|child_process|eval\(|base64\s+-d|\|\s*(ba)?sh)/
  condition:
    filename == "package.json" and filesize < 1MB and $hook
}

rule Python_Setup_Exfiltration {
  meta:
    category = "malware"
    severity = "critical"
    description = "setup.py that sends the environment away or downloads and runs a payload"
    reference = "https://attack.mitre.org/techniques/T1195/002/"
    date = "2026-12-04"
  strings:
    $environ = /os\.environ|os\.getenv|getpass\.getuser|socket\.gethostname/
    $send = /(requests\.(post|get)|urllib\.request\.urlopen|urlopen|http\.client\.HTTPS?Connection)\s*\(/
    $run = /(exec|eval)\s*\(\s*(base64\.b64decode|urlopen|requests\.get)/
    $spawn = /(subprocess\.(Popen|call|run)|os\.system)\s*\([^\n]{0,200}(curl|wget|https?:\/\/)/
  condition:
    filename == "setup.py" and filesize < 1MB and (($environ and $send) or $run or $spawn)
}

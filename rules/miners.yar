// Cryptominers: XMRig and its forks (by their strings, whatever the file is called), miner
// configuration files, and scripts that fetch, make executable and start a miner.

rule Miner_XMRig_Executable {
  meta:
    category = "miner"
    severity = "critical"
    description = "XMRig-style cryptominer executable (strings decide, not the name)"
    reference = "https://github.com/xmrig/xmrig"
    date = "2026-12-04"
  strings:
    $xmrig = "xmrig" nocase
    $donate = "donate-level"
    $stratum_tcp = "stratum+tcp://"
    $stratum_ssl = "stratum+ssl://"
    $randomx = "randomx" nocase
    $cryptonight = "cryptonight" nocase
    $nicehash = "nicehash" nocase
    $subscribe = "mining.subscribe"
    $submit = "mining.submit"
    $hint = "cpu-max-threads-hint"
  condition:
    (uint32(0) == 0x464c457f or uint16(0) == 0x5a4d) and 4 of them
}

rule Miner_Config_JSON {
  meta:
    category = "miner"
    severity = "high"
    description = "Cryptominer configuration (XMRig-style JSON with pools)"
    reference = "https://xmrig.com/docs/miner/config"
    date = "2026-12-04"
  strings:
    $pools = "\"pools\""
    $url = /"url"\s*:\s*"[^"]{0,200}(stratum\+(tcp|ssl|tls)|monero|minexmr|supportxmr|nanopool|2miners|hashvault|moneroocean|herominers|c3pool|xmrpool)/ nocase
    $donate = "\"donate-level\""
    $randomx = "\"randomx\""
    $rig = "\"rig-id\""
    $nicehash = "\"nicehash\""
    $coin = "\"coin\""
    $algo = "\"algo\""
  condition:
    filesize < 1MB and $pools and $url and 2 of ($donate, $randomx, $rig, $nicehash, $coin, $algo)
}

rule Miner_Dropper_Script {
  meta:
    category = "miner"
    severity = "critical"
    description = "Script that downloads a cryptominer, makes it executable and runs it"
    reference = "https://attack.mitre.org/techniques/T1496/"
    date = "2026-12-04"
  strings:
    $download = /(curl|wget)\s[^\n]{0,300}/
    $chmod = /chmod\s+(\+x|[ua]\+x|[0-7]?[0-7][0-7][157])\s/
    $miner = /(xmrig|minerd|cpuminer|xmr-stak|ccminer|kdevtmpfsi|kinsing)/ nocase
    $stratum = /stratum\+(tcp|ssl|tls):\/\// nocase
    $donate = "--donate-level"
  condition:
    filesize < 1MB and $download and $chmod and ($miner or $stratum or $donate)
}

rule Miner_Launch_Command {
  meta:
    category = "miner"
    severity = "high"
    description = "Script or unit that starts a cryptominer: a mining pool with a wallet, miner options or algorithm"
    reference = "https://xmrig.com/docs/miner/command-line-options"
    date = "2026-12-04"
  strings:
    $stratum = /stratum\+(tcp|ssl|tls):\/\/[a-z0-9.\-]{3,100}:[0-9]{2,5}/ nocase
    $pool = /(minexmr|supportxmr|nanopool|2miners|hashvault|moneroocean|herominers|c3pool|xmrpool|unmineable)\.(com|org|net|pro|stream|io)\b/ nocase
    $user = / -u [0-9A-Za-z._]{20}/
    $user_long = /--(user|wallet)[= ][0-9A-Za-z._]{20}/
    $algo = / -a (rx\/0|rx\/wow|cn\/[a-z0-9]+|randomx|cryptonight|kawpow|ethash)\b/ nocase
    $algo_long = /--algo[= ](rx\/0|rx\/wow|cn\/[a-z0-9]+|randomx|cryptonight|kawpow|ethash)\b/ nocase
    $donate = "--donate-level"
  condition:
    filesize < 1MB and not uint32(0) == 0x464c457f and
    ($stratum or $pool) and any of ($user*, $algo*, $donate)
}

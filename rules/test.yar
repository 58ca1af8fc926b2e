// Antivirus test files: harmless, detected by every engine.

rule EICAR_Test_File {
  meta:
    category = "test"
    severity = "critical"
    description = "EICAR antivirus test file"
    reference = "https://www.eicar.org/download-anti-malware-testfile/"
    date = "2026-12-04"
  strings:
    $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
  condition:
    // The file starts with the string; AVs accept trailing whitespace (space, tab, CR, LF,
    // Ctrl-Z) up to 128 bytes in all, and nothing else after it.
    $eicar at 0 and filesize <= 128 and
    (filesize == 68 or
     for all i in (68..filesize - 1) : (uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0d or uint8(i) == 0x0a or uint8(i) == 0x1a))
}

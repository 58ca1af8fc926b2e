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
    // The file starts with the string; AVs accept trailing whitespace up to 128 bytes.
    $eicar at 0 and filesize <= 128
}

/*
 * SecMon's bundled YARA rules. Put your own *.yar files beside this one: the console's file
 * scanner and `secmon scan` load every file of this directory (a file that does not compile is
 * left out and named on the scanner page). A rule tagged `suspicious` makes a file suspicious;
 * any other match makes it malicious.
 */

rule EICAR_Test_File
{
    meta:
        description = "The EICAR anti-virus test file: harmless, made to check that a scanner works end to end"
        reference = "https://www.eicar.org/download-anti-malware-testfile/"
    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar at 0 and filesize < 128
}

rule Linux_Reverse_Shell_Script : suspicious
{
    meta:
        description = "A script that connects a shell to a remote address (bash /dev/tcp, nc -e, socat exec)"
    strings:
        $tcp = /bash -i >& ?\/dev\/tcp\/[0-9.]+\/[0-9]+/
        $nc = /nc(at)? [^\n]{0,40}-e \/bin\/(ba)?sh/
        $socat = "socat exec:" nocase
    condition:
        filesize < 1MB and any of them
}

// The Maven oracle: maven-artifact's ComparableVersion. "C\ta\tb" answers the sign of
// new ComparableVersion(a).compareTo(new ComparableVersion(b)); every string parses ("P" is ok).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split("\t", -1);
            if (parts[0].equals("P")) {
                out.println("ok");
            } else {
                int c = new ComparableVersion(parts[1]).compareTo(new ComparableVersion(parts[2]));
                out.println(Integer.signum(c));
            }
            out.flush();
        }
    }
}

// Writes the tiny SAM test bundle (dam-convert's test class TinySam) into the folder given as the
// only argument. Run with the source launcher by run.sh:
//   java -cp dam-cli/target/dam.jar:dam-convert/target/test-classes MakeTinySam.java DIR
public class MakeTinySam {
  public static void main(String[] args) throws Exception {
    io.damjava.convert.TinySam.samBundle(java.nio.file.Path.of(args[0]));
  }
}

package io.damjava.spark;

import io.damjava.api.DamImage;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/** Reads the image and the region of one input row; every bad value is an InvalidInputException. */
final class RowRegions {
  private final int image;
  private final boolean imageIsPath;
  private final int mask;
  private final int rle;
  private final int box;
  private final int points;
  private final StructType schema;

  RowRegions(StructType schema, CaptionConfig config) {
    this.schema = schema;
    this.image = index(schema, config.imageCol());
    if (image < 0) {
      throw new InvalidInputException(
          "no image column '" + config.imageCol() + "' in " + schema.simpleString());
    }
    DataType t = schema.fields()[image].dataType();
    if (!(t instanceof StringType || t instanceof BinaryType)) {
      throw new InvalidInputException(
          "image column '"
              + config.imageCol()
              + "' must be a string (path) or binary (encoded image), not "
              + t.simpleString());
    }
    this.imageIsPath = t instanceof StringType;
    this.mask = index(schema, config.maskCol());
    this.rle = index(schema, config.rleCol());
    this.box = index(schema, config.boxCol());
    this.points = index(schema, config.pointsCol());
    if (mask < 0 && rle < 0 && box < 0 && points < 0) {
      throw new InvalidInputException(
          "no region column: add one of '"
              + config.maskCol()
              + "', '"
              + config.rleCol()
              + "', '"
              + config.boxCol()
              + "', '"
              + config.pointsCol()
              + "' to "
              + schema.simpleString());
    }
  }

  private static int index(StructType schema, String name) {
    return List.of(schema.fieldNames()).indexOf(name);
  }

  /** What identifies the row's image: a path string or the encoded bytes; null when missing. */
  Object imageKey(Row row) {
    return row.isNullAt(image) ? null : row.get(image);
  }

  DamImage readImage(Object key) {
    if (key == null) {
      throw new InvalidInputException("the image is null");
    }
    if (imageIsPath) {
      String s = (String) key;
      return DamImage.read(s.startsWith("file:") ? Path.of(URI.create(s)) : Path.of(s));
    }
    return DamImage.read((byte[]) key);
  }

  Region region(Row row, DamImage img) {
    List<String> set = new ArrayList<>();
    for (int i : new int[] {mask, rle, box, points}) {
      if (i >= 0 && !row.isNullAt(i)) {
        set.add(schema.fields()[i].name());
      }
    }
    if (set.size() != 1) {
      throw new InvalidInputException(
          set.isEmpty()
              ? "the row has no region: every region column is null"
              : "the row has several regions " + set + ": give exactly one");
    }
    Region r;
    if (mask >= 0 && !row.isNullAt(mask)) {
      Object v = row.get(mask);
      r = Region.mask(v instanceof byte[] b ? Mask.read(b) : Mask.read(Path.of((String) v)));
    } else if (rle >= 0 && !row.isNullAt(rle)) {
      r = Region.mask(rle(row.get(rle), img));
    } else if (box >= 0 && !row.isNullAt(box)) {
      double[] v = numbers(row.get(box), ",", "box");
      if (v.length != 4) {
        throw new InvalidInputException("a box has 4 numbers x0,y0,x1,y1, got " + v.length);
      }
      r = Region.box(v[0], v[1], v[2], v[3]);
    } else {
      String[] pts = ((String) row.get(points)).split(";");
      List<Region.Point> list = new ArrayList<>();
      for (String p : pts) {
        double[] v = numbers(p, ",", "point");
        if (v.length != 2) {
          throw new InvalidInputException("a point is x,y, got '" + p.strip() + "'");
        }
        list.add(Region.Point.positive(v[0], v[1]));
      }
      r = Region.points(list);
    }
    r.validateFor(img.width(), img.height());
    return r;
  }

  private static Mask rle(Object v, DamImage img) {
    if (v instanceof String s) {
      return CocoRle.toMask(CocoRle.decodeCounts(s), img.width(), img.height());
    }
    if (!(v instanceof Row r) || r.schema() == null) {
      throw new InvalidInputException("an RLE is a counts string or a struct {size, counts}");
    }
    List<String> names = List.of(r.schema().fieldNames());
    int si = names.indexOf("size");
    int ci = names.indexOf("counts");
    if (si < 0 || ci < 0 || r.isNullAt(si) || r.isNullAt(ci)) {
      throw new InvalidInputException("an RLE struct needs the fields size [h, w] and counts");
    }
    List<?> size = r.getList(si);
    if (size.size() != 2
        || ((Number) size.get(0)).intValue() != img.height()
        || ((Number) size.get(1)).intValue() != img.width()) {
      throw new InvalidInputException(
          "RLE size "
              + size
              + " differs from the image's [h, w] = ["
              + img.height()
              + ", "
              + img.width()
              + "]");
    }
    Object counts = r.get(ci);
    long[] c;
    if (counts instanceof String s) {
      c = CocoRle.decodeCounts(s);
    } else {
      List<?> l = r.getList(ci);
      c = new long[l.size()];
      for (int i = 0; i < c.length; i++) {
        c[i] = ((Number) l.get(i)).longValue();
      }
    }
    return CocoRle.toMask(c, img.width(), img.height());
  }

  private static double[] numbers(Object v, String sep, String what) {
    if (v instanceof String s) {
      String[] parts = s.split(sep);
      double[] out = new double[parts.length];
      for (int i = 0; i < parts.length; i++) {
        try {
          out[i] = Double.parseDouble(parts[i].strip());
        } catch (NumberFormatException e) {
          throw new InvalidInputException(
              "the " + what + " '" + s + "' has a part that is not a number: '" + parts[i] + "'");
        }
      }
      return out;
    }
    if (v instanceof scala.collection.Seq<?> || v instanceof List<?>) {
      List<?> l =
          v instanceof List<?> jl
              ? jl
              : scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<?>) v);
      double[] out = new double[l.size()];
      for (int i = 0; i < out.length; i++) {
        if (!(l.get(i) instanceof Number n)) {
          throw new InvalidInputException("the " + what + " has a non-number " + l.get(i));
        }
        out[i] = n.doubleValue();
      }
      return out;
    }
    throw new InvalidInputException(
        "a " + what + " is a string or an array of numbers, not " + v.getClass().getSimpleName());
  }
}

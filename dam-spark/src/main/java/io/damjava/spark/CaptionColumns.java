package io.damjava.spark;

import io.damjava.api.Caption;
import io.damjava.api.DamException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Timings;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns a captioning job appends to its input. A row that could not be described has {@code
 * error} set ({@code "ExceptionType: message"}) and the other columns null; a described row has
 * {@code error} null.
 */
public final class CaptionColumns {
  public static final String CAPTION = "caption";
  public static final String TOKEN_IDS = "token_ids";
  public static final String TOKEN_COUNT = "token_count";
  public static final String PROMPT_TOKENS = "prompt_tokens";
  public static final String STOP_REASON = "stop_reason";
  public static final String PREPROCESS_MS = "preprocess_ms";
  public static final String VISION_MS = "vision_ms";
  public static final String PREFILL_MS = "prefill_ms";
  public static final String DECODE_MS = "decode_ms";
  public static final String TOTAL_MS = "total_ms";
  public static final String ERROR = "error";

  /** The appended fields, in order. */
  public static final List<StructField> FIELDS =
      List.of(
          DataTypes.createStructField(CAPTION, DataTypes.StringType, true),
          DataTypes.createStructField(
              TOKEN_IDS, DataTypes.createArrayType(DataTypes.IntegerType, false), true),
          DataTypes.createStructField(TOKEN_COUNT, DataTypes.IntegerType, true),
          DataTypes.createStructField(PROMPT_TOKENS, DataTypes.IntegerType, true),
          DataTypes.createStructField(STOP_REASON, DataTypes.StringType, true),
          DataTypes.createStructField(PREPROCESS_MS, DataTypes.DoubleType, true),
          DataTypes.createStructField(VISION_MS, DataTypes.DoubleType, true),
          DataTypes.createStructField(PREFILL_MS, DataTypes.DoubleType, true),
          DataTypes.createStructField(DECODE_MS, DataTypes.DoubleType, true),
          DataTypes.createStructField(TOTAL_MS, DataTypes.DoubleType, true),
          DataTypes.createStructField(ERROR, DataTypes.StringType, true));

  private CaptionColumns() {}

  /** {@code input} with the caption columns appended; refuses an input that already has one. */
  public static StructType append(StructType input) {
    StructType out = input;
    List<String> have = List.of(input.fieldNames());
    for (StructField f : FIELDS) {
      if (have.contains(f.name())) {
        throw new InvalidInputException(
            "the input already has a column '"
                + f.name()
                + "': rename or drop it before captioning");
      }
      out = out.add(f);
    }
    return out;
  }

  static Row described(Row in, Caption c) {
    Timings t = c.timings();
    return join(
        in,
        c.text(),
        c.tokenIds(),
        c.tokenCount(),
        c.promptTokens(),
        c.stopReason().name(),
        ms(t.preprocess()),
        ms(t.vision()),
        ms(t.prefill()),
        ms(t.decode()),
        ms(t.total()),
        null);
  }

  static Row failed(Row in, DamException e) {
    Object[] v = new Object[FIELDS.size()];
    v[v.length - 1] = e.getClass().getSimpleName() + ": " + e.getMessage();
    return join(in, v);
  }

  private static Row join(Row in, Object... added) {
    Object[] v = new Object[in.length() + added.length];
    for (int i = 0; i < in.length(); i++) {
      v[i] = in.get(i);
    }
    if (added.length > 1 && added[1] instanceof int[] ids) {
      Integer[] boxed = new Integer[ids.length];
      for (int i = 0; i < ids.length; i++) {
        boxed[i] = ids[i];
      }
      added[1] = scala.jdk.javaapi.CollectionConverters.asScala(List.of(boxed)).toSeq();
    }
    System.arraycopy(added, 0, v, in.length(), added.length);
    return RowFactory.create(v);
  }

  private static double ms(Duration d) {
    return d.toNanos() / 1e6;
  }
}

package io.damjava.bench;

import io.damjava.tokenizer.IncrementalDetokenizer;
import io.damjava.tokenizer.Tokenizer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokenizer speed on the Llama-2 tokenizer.json (built by the dam-tokenizer tests at
 * dam-tokenizer/target/llama-fixture/tokenizer.json; override with -Ddam.tokenizer=PATH):
 *
 * <ul>
 *   <li>{@code encode}: one call on a {@value #TEXT_BYTES}-byte mixed English/CJK/emoji text; MB/s
 *       = {@value #TEXT_BYTES} / 1e6 / (seconds per op).
 *   <li>{@code streamDecode}: ns per token through {@link IncrementalDetokenizer}.
 *   <li>{@code fullDecode}: ns per token of one {@code decode(ids, true)} of the whole sequence.
 * </ul>
 *
 * <p>{@code impl=djl} runs the same text through DJL's Hugging Face tokenizers binding
 * (ai.djl.huggingface:tokenizers, looked up reflectively so that dam-bench compiles without it; DJL
 * has no streaming decoder, so its streamDecode decodes each id alone, which is what naive
 * streamers do and is not UTF-8 safe).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class TokenizerBenchmark {
  static final int TEXT_BYTES = 65_536;
  static final int TOKENS = 4096;

  @Param({"dam-java", "djl"})
  public String impl;

  private Tokenizer tokenizer;
  private String text;
  private int[] ids;
  private long[] longIds;
  private IncrementalDetokenizer detokenizer;
  private final StringBuilder sink = new StringBuilder(1 << 16);

  private Object djl;
  private MethodHandle djlEncode;
  private MethodHandle djlGetIds;
  private MethodHandle djlDecode;

  @Setup(Level.Trial)
  public void setUp() throws Throwable {
    Path path =
        Path.of(
            System.getProperty(
                "dam.tokenizer", "dam-tokenizer/target/llama-fixture/tokenizer.json"));
    tokenizer = Tokenizer.load(path);
    text = sampleText(TEXT_BYTES);
    int[] all = tokenizer.encode(text, false);
    ids = java.util.Arrays.copyOf(all, Math.min(TOKENS, all.length));
    longIds = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      longIds[i] = ids[i];
    }
    detokenizer = new IncrementalDetokenizer(tokenizer);
    if ("djl".equals(impl)) {
      Class<?> c = Class.forName("ai.djl.huggingface.tokenizers.HuggingFaceTokenizer");
      Class<?> enc = Class.forName("ai.djl.huggingface.tokenizers.Encoding");
      MethodHandles.Lookup l = MethodHandles.publicLookup();
      djl = l.findStatic(c, "newInstance", MethodType.methodType(c, Path.class)).invoke(path);
      djlEncode =
          l.findVirtual(
              c, "encode", MethodType.methodType(enc, String.class, boolean.class, boolean.class));
      djlGetIds = l.findVirtual(enc, "getIds", MethodType.methodType(long[].class));
      djlDecode =
          l.findVirtual(
              c, "decode", MethodType.methodType(String.class, long[].class, boolean.class));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (djl instanceof AutoCloseable a) {
      a.close();
    }
  }

  /** Deterministic mixed text: English words, punctuation, numbers, some CJK and emoji. */
  static String sampleText(int bytes) {
    String[] words = {
      "the", "masked", "region", "shows", "a", "brown", "dog", "sitting", "on", "green", "grass",
      "with", "its", "tongue", "out,", "and", "detailed", "fur.", "2024", "日本語", "🦙", "\n"
    };
    Random r = new Random(1);
    StringBuilder sb = new StringBuilder();
    while (sb.toString().getBytes(StandardCharsets.UTF_8).length < bytes) {
      for (int i = 0; i < 64; i++) {
        sb.append(words[r.nextInt(words.length)]).append(' ');
      }
    }
    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
    return new String(b, 0, bytes, StandardCharsets.UTF_8);
  }

  @Benchmark
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Object encode() throws Throwable {
    if (djl != null) {
      return djlGetIds.invoke(djlEncode.invoke(djl, text, false, false));
    }
    return tokenizer.encode(text, false);
  }

  @Benchmark
  @OperationsPerInvocation(TOKENS)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public int streamDecode() throws Throwable {
    sink.setLength(0);
    if (djl != null) {
      long[] one = new long[1];
      for (long id : longIds) {
        one[0] = id;
        sink.append((String) djlDecode.invoke(djl, one, true));
      }
      return sink.length();
    }
    detokenizer.reset();
    for (int id : ids) {
      detokenizer.accept(id, sink);
    }
    sink.append(detokenizer.finish());
    return sink.length();
  }

  @Benchmark
  @OperationsPerInvocation(TOKENS)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public Object fullDecode() throws Throwable {
    if (djl != null) {
      return djlDecode.invoke(djl, longIds, true);
    }
    return tokenizer.decode(ids, true);
  }
}

package io.damjava.cli;

import io.damjava.convert.Progress;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Progress of long steps on stderr. On a terminal (or with {@code DAM_PROGRESS=bars}) a bar redrawn
 * in place; when stderr is piped (or {@code DAM_PROGRESS=lines}) a few plain lines: the first and
 * last step of each counted stage, and every other message once.
 */
final class ConsoleProgress implements Progress {
  private static final Pattern COUNT = Pattern.compile("^(.*?)\\s*(\\d+)/(\\d+)$");
  private static final Pattern PERCENT = Pattern.compile("^(.*?):\\s*(\\d+)%$");
  private static final int BAR = 28;
  private static final int WIDTH = 78;

  private final PrintWriter err;
  private final boolean bars;
  private final String label;
  private String lastStage = "";
  private boolean drawn;

  ConsoleProgress(PrintWriter err, boolean bars, String label) {
    this.err = err;
    this.bars = bars;
    this.label = label;
  }

  /** Bars when {@code DAM_PROGRESS=bars} or stderr is a terminal; lines otherwise. */
  static boolean bars(Map<String, String> env) {
    String mode = env.getOrDefault("DAM_PROGRESS", "").toLowerCase(Locale.ROOT);
    return switch (mode) {
      case "bars" -> true;
      case "lines" -> false;
      default -> System.console() != null;
    };
  }

  @Override
  public synchronized void step(String message) {
    String stage = message;
    int done = -1;
    int total = -1;
    Matcher c = COUNT.matcher(message);
    Matcher p = PERCENT.matcher(message);
    if (c.matches()) {
      stage = c.group(1);
      done = Integer.parseInt(c.group(2));
      total = Integer.parseInt(c.group(3));
    } else if (p.matches()) {
      stage = p.group(1);
      done = Integer.parseInt(p.group(2));
      total = 100;
    }
    if (bars) {
      StringBuilder line = new StringBuilder(label).append(' ');
      if (total > 0) {
        int fill = (int) Math.min(BAR, (long) BAR * done / total);
        line.append('[')
            .append("#".repeat(fill))
            .append(".".repeat(BAR - fill))
            .append("] ")
            .append(String.format(Locale.ROOT, "%3d%% ", 100L * done / total))
            .append(stage);
      } else {
        line.append(message);
      }
      String s = line.length() > WIDTH ? line.substring(0, WIDTH) : line.toString();
      err.print("\r" + s + " ".repeat(WIDTH - s.length()));
      err.flush();
      drawn = true;
      return;
    }
    boolean newStage = !stage.equals(lastStage);
    lastStage = stage;
    // The converter counts from 0 ("layer 0/26" as layer 0 starts), so n-1 of n is the last step.
    boolean last = total > 0 && (c.matches() ? done >= total - 1 : done >= total);
    if (newStage || total < 0 || last) {
      err.println("dam: " + label + ": " + message);
      err.flush();
    }
  }

  /** Ends the bar's line. */
  synchronized void finish() {
    if (drawn) {
      err.println();
      err.flush();
      drawn = false;
    }
  }

  /**
   * Runs a step with no measurable progress (loading a model): on a terminal an elapsed-time line
   * that is redrawn until the step ends; nothing when piped.
   */
  static <T> T timed(PrintWriter err, boolean bars, String label, Supplier<T> work) {
    if (!bars) {
      return work.get();
    }
    long t0 = System.nanoTime();
    Thread ticker =
        new Thread(
            () -> {
              String spin = "|/-\\";
              for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                synchronized (err) {
                  err.print(
                      String.format(
                          Locale.ROOT,
                          "\r%s %c %.1f s",
                          label,
                          spin.charAt(i % 4),
                          (System.nanoTime() - t0) / 1e9));
                  err.flush();
                }
                try {
                  Thread.sleep(200);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "dam-progress");
    ticker.setDaemon(true);
    ticker.start();
    boolean ok = false;
    try {
      T result = work.get();
      ok = true;
      return result;
    } finally {
      ticker.interrupt();
      try {
        ticker.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (err) {
        err.println(
            String.format(
                Locale.ROOT,
                "\r%s %s %.1f s   ",
                label,
                ok ? "done in" : "failed after",
                (System.nanoTime() - t0) / 1e9));
        err.flush();
      }
    }
  }
}

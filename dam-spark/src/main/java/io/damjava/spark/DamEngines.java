package io.damjava.spark;

import io.damjava.api.DescribeAnything;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engines of this JVM: one per {@link EngineSpec}, loaded lazily by the first task that needs
 * it and shared by every later task of the executor (a {@link DescribeAnything} is thread-safe).
 * They are closed when the JVM exits, or by {@link #closeAll()} (in a notebook, to free the memory
 * before the session ends).
 */
public final class DamEngines {
  private static final Map<EngineSpec, DescribeAnything> ENGINES = new ConcurrentHashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(DamEngines::closeAll, "dam-spark-engines-close"));
  }

  private DamEngines() {}

  /** The engine for {@code spec}, loading it if this JVM has none yet. */
  public static DescribeAnything get(EngineSpec spec) {
    return ENGINES.computeIfAbsent(
        spec,
        s -> {
          DescribeAnything dam = s.load();
          LOADS.incrementAndGet();
          return dam;
        });
  }

  /** How many engines this JVM has loaded since it started (a reload after closeAll counts). */
  public static int loads() {
    return LOADS.get();
  }

  /** How many engines this JVM holds now. */
  public static int size() {
    return ENGINES.size();
  }

  /** Closes and forgets every engine of this JVM; the next task loads its engine again. */
  public static void closeAll() {
    List<DescribeAnything> open = new ArrayList<>();
    for (EngineSpec s : List.copyOf(ENGINES.keySet())) {
      DescribeAnything dam = ENGINES.remove(s);
      if (dam != null) {
        open.add(dam);
      }
    }
    open.forEach(DescribeAnything::close);
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.InferenceException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps a stopping JVM from freeing ONNX Runtime under a running graph.
 *
 * <p>ONNX Runtime's Java binding registers a shutdown hook that releases its native environment.
 * Shutdown hooks run concurrently, so on SIGTERM (a {@code docker stop}, a service manager) or
 * Ctrl-C, a thread still inside {@code OrtSession.run} or {@code createSession} uses freed memory:
 * the process dies with SIGSEGV or "double free" and an {@code hs_err} file instead of exiting with
 * 143 (seen in 2 of 3 soaks stopped with {@code kill -TERM}).
 *
 * <p>Every native call of the engine goes through {@link #call}, under a shared lock. For SIGTERM,
 * SIGINT and SIGHUP the engine puts a handler in front of the JVM's own (through {@code
 * sun.misc.Signal}, looked up reflectively; skipped where the JVM refuses it, e.g. under {@code
 * -Xrs}): it first {@link #drain drains} — new calls fail with an {@link InferenceException} saying
 * the JVM is stopping, and the calls in progress are waited for, at most {@code
 * -Ddam.shutdownDrainSeconds} (60 by default) after graph runs started through {@link #run} were
 * told to terminate — and then hands the signal to the handler it replaced, which runs the shutdown
 * hooks as before. {@code -Ddam.drainOnSignal=false} leaves the signal handlers alone. A {@code
 * System.exit} from the application does not pass through here: close the {@code DescribeAnything}
 * (which waits for its calls) before exiting.
 *
 * <p>Internal to the engine (public only for its sub-packages); not an API.
 */
public final class NativeCalls {
  private static final Logger LOG = Logger.getLogger(NativeCalls.class.getName());
  private static final ReentrantReadWriteLock GATE = new ReentrantReadWriteLock();
  private static volatile boolean stopping;
  private static final Set<OrtSession.RunOptions> RUNNING = new HashSet<>(); // guarded by itself

  static {
    installSignalDrain(); // before the first session exists: every native call passes here first
  }

  private NativeCalls() {}

  /** A call into ONNX Runtime. */
  @FunctionalInterface
  public interface OrtCall<T> {
    /**
     * @return the call's result
     * @throws OrtException as ONNX Runtime reports it
     */
    T call() throws OrtException;
  }

  /**
   * Runs {@code c} unless the JVM is stopping.
   *
   * @return what {@code c} returns
   * @throws OrtException what {@code c} throws
   * @throws InferenceException once a termination signal has arrived
   */
  public static <T> T call(OrtCall<T> c) throws OrtException {
    Lock read = GATE.readLock();
    read.lock();
    try {
      if (stopping) {
        throw new InferenceException("the JVM is stopping: ONNX Runtime takes no new work");
      }
      return c.call();
    } finally {
      read.unlock();
    }
  }

  /** A graph run given its run options. */
  @FunctionalInterface
  public interface OrtRun<T> {
    /**
     * @return the run's result
     * @throws OrtException as ONNX Runtime reports it
     */
    T run(OrtSession.RunOptions options) throws OrtException;
  }

  /**
   * Runs a graph through {@link #call} with run options of its own, so that a termination signal
   * can abort it (ONNX Runtime's terminate flag) instead of waiting for a long graph to finish.
   *
   * @return what {@code r} returns
   * @throws OrtException what {@code r} throws, including the abort
   */
  public static <T> T run(OrtRun<T> r) throws OrtException {
    return call(
        () -> {
          try (OrtSession.RunOptions o = new OrtSession.RunOptions()) {
            synchronized (RUNNING) {
              RUNNING.add(o);
            }
            try {
              return r.run(o);
            } finally {
              synchronized (RUNNING) {
                RUNNING.remove(o); // before close: the drain never touches a closed one
              }
            }
          }
        });
  }

  /**
   * Refuses new calls, aborts the graph runs in progress and waits for the calls to return.
   *
   * @return whether every call in progress returned within the limit
   */
  static boolean drain() {
    stopping = true;
    synchronized (RUNNING) {
      for (OrtSession.RunOptions o : RUNNING) {
        try {
          o.setTerminate(true);
        } catch (OrtException e) {
          LOG.log(Level.FINE, "cannot abort a graph run", e);
        }
      }
    }
    long seconds = Long.getLong("dam.shutdownDrainSeconds", 60);
    Lock write = GATE.writeLock();
    try {
      if (write.tryLock(seconds, TimeUnit.SECONDS)) {
        write.unlock(); // later calls see `stopping` under the read lock and never reach ORT
        return true;
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Puts the draining handler in front of the JVM's for TERM, INT and HUP (class init: once). */
  private static void installSignalDrain() {
    if (!Boolean.parseBoolean(System.getProperty("dam.drainOnSignal", "true"))) {
      return;
    }
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Method handle = signal.getMethod("handle", signal, handler);
      Object ignore = handler.getField("SIG_IGN").get(null);
      for (String name : new String[] {"TERM", "INT", "HUP"}) {
        Object sig = signal.getConstructor(String.class).newInstance(name);
        Object[] previous = new Object[1];
        Object ours =
            Proxy.newProxyInstance(
                handler.getClassLoader(),
                new Class<?>[] {handler},
                (proxy, m, args) -> {
                  switch (m.getName()) {
                    case "hashCode":
                      return System.identityHashCode(proxy);
                    case "equals":
                      return proxy == args[0];
                    case "toString":
                      return "dam-onnx drain before SIG" + name;
                    default:
                      break;
                  }
                  if (!drain()) {
                    LOG.warning("a graph was still running when the drain time ran out");
                  }
                  m.invoke(previous[0], args);
                  return null;
                });
        try {
          previous[0] = handle.invoke(null, sig, ours);
          if (previous[0] == ignore) {
            handle.invoke(null, sig, ignore); // an ignored signal stays ignored
          }
        } catch (InvocationTargetException refused) {
          // -Xrs, or a signal the VM uses itself: leave it as it is
          LOG.log(Level.FINE, "no drain on SIG" + name, refused.getCause());
        }
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "no signal drain on this JVM", e);
    }
  }
}

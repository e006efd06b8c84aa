package org.contextvars4j.benchmarks;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Checks, in each benchmark's setup, that an adapter does what it claims, so that a wrong adapter
 * fails the run instead of producing a fast wrong number.
 */
final class Checks {
  private Checks() {}

  /** Checks that the variable reads {@link ContextSystem#VALUE} and the unbound one the default. */
  static void requireBound(ContextSystem system, boolean checkUnbound) {
    system.inBindings(
        () -> {
          require(system.get() == ContextSystem.VALUE, system, "get() did not return the value");
          if (checkUnbound) {
            require(
                system.getUnbound() == ContextSystem.DEFAULT,
                system,
                "getUnbound() did not return the default");
          }
        });
  }

  /** Checks that a task wrapped here and run on another thread sees the value. */
  static void requireCarried(ContextSystem system) {
    AtomicReference<Object> seen = new AtomicReference<>();
    AtomicReference<Runnable> wrapped = new AtomicReference<>();
    system.inBindings(() -> wrapped.set(system.captureAndWrap(() -> seen.set(read(system)))));
    Thread thread = new Thread(wrapped.get(), "check-" + system.getClass().getSimpleName());
    thread.start();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    require(seen.get() == ContextSystem.VALUE, system, "a wrapped task did not see the value");
  }

  /** Reads the variable on a thread where the adapter's wrapper has put the captured values. */
  static Object read(ContextSystem system) {
    return system.get();
  }

  /**
   * Moves everything the setup made, the thread's own state among it, into the old generation,
   * as in a server whose threads have run for a while: {@code System.gc()} is a full collection
   * under G1 and ParallelGC. Without it an allocation-free benchmark never collects, its
   * per-thread objects stay young, and every store into them skips the write barrier's slow
   * path that a long-running thread pays.
   */
  static void tenure() {
    System.gc();
    System.gc();
  }

  /**
   * {@return a Blackhole for a setup's checks, outside a benchmark method} JMH's constructor asks
   * for this exact phrase, so that user code does not make one by accident.
   */
  static Blackhole blackhole() {
    return new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is"
            + " dangerous.");
  }

  static void require(boolean condition, ContextSystem system, String what) {
    require(condition, system.getClass().getSimpleName(), what);
  }

  /** Fails with {@code "system: what"} unless {@code condition} holds. */
  static void require(boolean condition, String system, String what) {
    if (!condition) {
      throw new IllegalStateException(String.format(Locale.ROOT, "%s: %s", system, what));
    }
  }

  /**
   * Runs {@code work} on a new thread named {@code name} and waits for it, at most a minute: a
   * setup's warm-up whose profile, not whose thread, the benchmark wants.
   */
  static void runOnAnotherThread(String name, Runnable work) {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread other = new Thread(work, name);
    other.setUncaughtExceptionHandler((thread, error) -> failure.set(error));
    other.start();
    try {
      other.join(Duration.ofMinutes(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the " + name + " thread ran", e);
    }
    if (other.isAlive()) {
      throw new IllegalStateException("the " + name + " thread did not end within a minute");
    }
    if (failure.get() != null) {
      throw new IllegalStateException("the " + name + " thread failed", failure.get());
    }
  }
}

package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The request and handler shapes written with plain {@code ThreadLocal} calls (get the old
 * value, set, restore), shared by {@link ThreadLocalSystem} and {@link TtlSystem}: a {@code
 * TransmittableThreadLocal} is a {@code ThreadLocal}, set and restored the same way.
 */
final class ThreadLocalShapes {
  private ThreadLocalShapes() {}

  static void request(ThreadLocal<Object> the, Blackhole bh) {
    Object old = the.get();
    the.set(ContextSystem.OTHER);
    try {
      for (int i = 0; i < ContextSystem.REQUEST_READS; i++) {
        bh.consume(the.get());
      }
    } finally {
      // For TTL a set(null) is a remove, as the restore of an unset variable must be.
      the.set(old);
    }
  }

  static Object handler(
      ThreadLocal<Object> h0,
      ThreadLocal<Object> h1,
      ThreadLocal<Object> h2,
      Blackhole bh,
      Executor pool,
      Callable<Object> hop)
      throws Exception {
    Object old0 = h0.get();
    Object old1 = h1.get();
    Object old2 = h2.get();
    h0.set(ContextSystem.OTHER);
    h1.set(ContextSystem.OTHER);
    h2.set(ContextSystem.OTHER);
    try {
      for (int i = 0; i < ContextSystem.HANDLER_READS; i++) {
        bh.consume(h0.get());
        bh.consume(h1.get());
        bh.consume(h2.get());
      }
      return ExecutorHopBenchmark.handOver(pool, hop);
    } finally {
      h0.set(old0);
      h1.set(old1);
      h2.set(old2);
    }
  }

  /** {@return the common value of the three handler variables, or null if they differ} */
  static Object readHandlerVars(
      ThreadLocal<Object> h0, ThreadLocal<Object> h1, ThreadLocal<Object> h2) {
    Object a = h0.get();
    Object b = h1.get();
    Object c = h2.get();
    return a == b && b == c ? a : null;
  }
}

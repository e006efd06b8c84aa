package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * {@code ThreadLocal} (the floor) or {@code InheritableThreadLocal}. Neither has a context to
 * capture, so capture and capture + wrap are what a user writes by hand: copy the {@code n}
 * values into an array ("copy loop"), and around the task set them all, run, and restore the
 * previous values. {@code InheritableThreadLocal} copies values only when a thread is created, so
 * it does nothing for a pool whose thread already exists.
 *
 * <ul>
 *   <li>get: {@code tl.get()}; unbound: {@code tl.get()} of a variable this thread never set,
 *       {@code null} replaced by the default (the entry the first read creates holds {@code
 *       null});
 *   <li>set + restore: {@code old = tl.get(); tl.set(v); tl.set(old)};
 *   <li>executor: the pool unwrapped: the baseline of the executor hop (does not propagate).
 * </ul>
 */
final class ThreadLocalSystem implements ContextSystem {
  private final ThreadLocal<Object> the;
  private final ThreadLocal<Object> unbound;
  private final ThreadLocal<Object>[] all;
  private int n;

  @SuppressWarnings({"unchecked", "rawtypes"})
  ThreadLocalSystem(boolean inheritable) {
    all = new ThreadLocal[MAX_N];
    for (int i = 0; i < all.length; i++) {
      all[i] = inheritable ? new InheritableThreadLocal<>() : new ThreadLocal<>();
    }
    the = all[MAX_N - 1];
    unbound = inheritable ? new InheritableThreadLocal<>() : new ThreadLocal<>();
  }

  @Override
  public void bind(int n) {
    this.n = n;
    // The first n - 1 variables, then the variable: kept in all[0..n-2] and all[MAX_N - 1].
    for (int i = 0; i < n - 1; i++) {
      all[i].set(Integer.valueOf(i));
    }
    the.set(VALUE);
  }

  @Override
  public void unbind() {
    for (int i = 0; i < n - 1; i++) {
      all[i].remove();
    }
    the.remove();
  }

  @Override
  public Object get() {
    return the.get();
  }

  @Override
  public Object getUnbound() {
    Object value = unbound.get();
    return value != null ? value : DEFAULT;
  }

  @Override
  public void setAndRestore() {
    Object old = the.get();
    the.set(OTHER);
    the.set(old);
  }

  private ThreadLocal<Object> bound(int i) {
    return i == n - 1 ? the : all[i];
  }

  @Override
  public Object capture() {
    int count = n;
    Object[] values = new Object[count];
    for (int i = 0; i < count; i++) {
      values[i] = bound(i).get();
    }
    return values;
  }

  @Override
  public Runnable captureAndWrap(Runnable task) {
    Object[] captured = (Object[]) capture();
    return () -> runIn(captured, task);
  }

  /** Sets the captured values, runs {@code task}, and restores the values from before. */
  private void runIn(Object[] captured, Runnable task) {
    int count = captured.length;
    Object[] saved = new Object[count];
    for (int i = 0; i < count; i++) {
      ThreadLocal<Object> local = bound(i);
      saved[i] = local.get();
      local.set(captured[i]);
    }
    try {
      task.run();
    } finally {
      for (int i = 0; i < count; i++) {
        bound(i).set(saved[i]);
      }
    }
  }

  @Override
  public Executor wrap(ExecutorService pool) {
    return pool;
  }

  @Override
  public boolean propagatesToPool() {
    return false;
  }

  private final ThreadLocal<Object> h0 = new ThreadLocal<>();
  private final ThreadLocal<Object> h1 = new ThreadLocal<>();
  private final ThreadLocal<Object> h2 = new ThreadLocal<>();

  @Override
  public void request(Blackhole bh) {
    ThreadLocalShapes.request(the, bh);
  }

  @Override
  public Object handler(Blackhole bh, Executor pool, Callable<Object> hop) throws Exception {
    return ThreadLocalShapes.handler(h0, h1, h2, bh, pool, hop);
  }

  @Override
  public Object readHandlerVars() {
    return ThreadLocalShapes.readHandlerVars(h0, h1, h2);
  }

  @Override
  public void replay(Object held, Runnable task) {
    runIn((Object[]) held, task);
  }

  @Override
  public void age(int n, int sets) {
    for (int i = 0; i < sets; i++) {
      (n == 1 ? the : all[i % (n - 1)]).set(Integer.valueOf(i));
    }
    the.set(VALUE);
  }
}

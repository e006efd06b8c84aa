package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import com.alibaba.ttl.TransmittableThreadLocal;
import com.alibaba.ttl.TtlRunnable;
import com.alibaba.ttl.threadpool.TtlExecutors;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * Alibaba {@code TransmittableThreadLocal} (TTL), used as its README shows.
 *
 * <ul>
 *   <li>get: {@code ttl.get()} (a {@code ThreadLocal} read, plus registering the variable in the
 *       thread's holder when the value is not null); unbound: {@code ttl.get()} of a variable this
 *       thread never set, {@code null} replaced by the default (TTL treats {@code null} as unset);
 *   <li>set + restore: {@code old = ttl.get(); ttl.set(v); ttl.set(old)};
 *   <li>capture: {@code TransmittableThreadLocal.Transmitter.capture()};
 *   <li>capture + wrap: {@code TtlRunnable.get(task)} (which captures), run: replay, run,
 *       restore;
 *   <li>executor: {@code TtlExecutors.getTtlExecutorService(pool)}.
 * </ul>
 */
final class TtlSystem implements ContextSystem {
  private final TransmittableThreadLocal<Object> the = new TransmittableThreadLocal<>();
  private final TransmittableThreadLocal<Object> unbound = new TransmittableThreadLocal<>();
  private final TransmittableThreadLocal<Object>[] others;
  private int n;

  @SuppressWarnings({"unchecked", "rawtypes"})
  TtlSystem() {
    others = new TransmittableThreadLocal[MAX_N - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = new TransmittableThreadLocal<>();
    }
  }

  @Override
  public void bind(int n) {
    this.n = n;
    for (int i = 0; i < n - 1; i++) {
      others[i].set(Integer.valueOf(i));
    }
    the.set(VALUE);
  }

  @Override
  public void unbind() {
    for (int i = 0; i < n - 1; i++) {
      others[i].remove();
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

  @Override
  public Object capture() {
    return TransmittableThreadLocal.Transmitter.capture();
  }

  @Override
  public Runnable captureAndWrap(Runnable task) {
    return TtlRunnable.get(task);
  }

  @Override
  public Executor wrap(ExecutorService pool) {
    return TtlExecutors.getTtlExecutorService(pool);
  }

  private final TransmittableThreadLocal<Object> h0 = new TransmittableThreadLocal<>();
  private final TransmittableThreadLocal<Object> h1 = new TransmittableThreadLocal<>();
  private final TransmittableThreadLocal<Object> h2 = new TransmittableThreadLocal<>();

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
    Object backup = TransmittableThreadLocal.Transmitter.replay(held);
    try {
      task.run();
    } finally {
      TransmittableThreadLocal.Transmitter.restore(backup);
    }
  }

  @Override
  public void age(int n, int sets) {
    for (int i = 0; i < sets; i++) {
      (n == 1 ? the : others[i % (n - 1)]).set(Integer.valueOf(i));
    }
    the.set(VALUE);
  }
}

package org.contextvars4j.benchmarks;

import io.micrometer.context.ContextSnapshot;
import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import io.micrometer.context.ContextExecutorService;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * Micrometer context-propagation, used as its documentation shows: the values live in plain
 * {@code ThreadLocal}s, each registered in a {@code ContextRegistry} (a private one, holding
 * exactly the {@code n} bound variables) with {@code registerThreadLocalAccessor(key,
 * threadLocal)}; a {@code ContextSnapshotFactory} over that registry captures them.
 *
 * <p>Micrometer has no variable of its own: reading or setting one is reading or setting the
 * {@code ThreadLocal}, which the {@link SystemType#THREAD_LOCAL} rows measure. So get, unbound get
 * and set + restore throw here (the benchmarks skip them). {@link #get()} still reads the
 * {@code ThreadLocal} for the executor hop's task, which is what a Micrometer user's task does.
 *
 * <ul>
 *   <li>capture: {@code factory.captureAll()} (reads every registered accessor into a map);
 *   <li>capture + wrap: {@code factory.captureAll().wrap(task)}, run: set every captured value,
 *       run, restore every previous value;
 *   <li>executor: {@code ContextExecutorService.wrap(pool, factory::captureAll)}.
 * </ul>
 */
final class MicrometerSystem implements ContextSystem {
  private final ThreadLocal<Object> the = new ThreadLocal<>();
  private final ThreadLocal<Object>[] others;
  private ContextSnapshotFactory factory = ContextSnapshotFactory.builder().build();
  private int n;

  @SuppressWarnings({"unchecked", "rawtypes"})
  MicrometerSystem() {
    others = new ThreadLocal[MAX_N - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = new ThreadLocal<>();
    }
  }

  @Override
  public void bind(int n) {
    this.n = n;
    ContextRegistry registry = new ContextRegistry();
    for (int i = 0; i < n - 1; i++) {
      registry.registerThreadLocalAccessor("var" + i, others[i]);
      others[i].set(Integer.valueOf(i));
    }
    registry.registerThreadLocalAccessor("the", the);
    the.set(VALUE);
    factory = ContextSnapshotFactory.builder().contextRegistry(registry).build();
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
    throw new UnsupportedOperationException(
        "Micrometer context-propagation has no variable of its own: a get is a ThreadLocal get");
  }

  @Override
  public void setAndRestore() {
    throw new UnsupportedOperationException(
        "Micrometer context-propagation has no variable of its own: a set is a ThreadLocal set");
  }

  @Override
  public Object capture() {
    return factory.captureAll();
  }

  @Override
  public Runnable captureAndWrap(Runnable task) {
    return factory.captureAll().wrap(task);
  }

  @Override
  public Executor wrap(ExecutorService pool) {
    return ContextExecutorService.wrap(pool, factory::captureAll);
  }

  @Override
  public void request(Blackhole bh) {
    throw new UnsupportedOperationException(
        "Micrometer has no variable of its own: its request is the ThreadLocal row's");
  }

  @Override
  public Object handler(Blackhole bh, Executor pool, Callable<Object> hop) {
    throw new UnsupportedOperationException(
        "Micrometer has no variable of its own: its handler is ThreadLocals through its wrapper");
  }

  @Override
  public Object readHandlerVars() {
    throw new UnsupportedOperationException("Micrometer has no variable of its own");
  }

  @Override
  @SuppressWarnings("try") // the scope is only closed: that is the restore
  public void replay(Object held, Runnable task) {
    try (ContextSnapshot.Scope ignored = ((ContextSnapshot) held).setThreadLocals()) {
      task.run();
    }
  }
}

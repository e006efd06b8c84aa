package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.contextvars4j.concurrent.ContextExecutors;

/**
 * contextvars4j through its public API only: whatever the core is, this measures it.
 *
 * <ul>
 *   <li>get: {@code var.get()}; unbound: a variable created with a default, {@code get()};
 *   <li>set + restore: {@code var.reset(var.set(v))};
 *   <li>capture: {@code Context.copyCurrent()};
 *   <li>capture + wrap: {@code ContextExecutors.capture(task)}, or with {@code copyWrap} {@code
 *       Context.copyCurrent().wrap(task)};
 *   <li>executor: {@code ContextExecutors.wrap(pool)}.
 * </ul>
 */
final class ContextVars4jSystem implements ContextSystem {
  private final boolean copyWrap;
  private final ContextVar<Object> the = ContextVar.named("the");
  private final ContextVar<Object> unbound = ContextVar.named("unbound", DEFAULT);
  private final ContextVar<Object>[] others;
  // Per thread: the shared-system benchmarks bind the same variables on several threads.
  private final ThreadLocal<Deque<Token<Object>>> tokens =
      ThreadLocal.withInitial(ArrayDeque::new);

  @SuppressWarnings({"unchecked", "rawtypes"})
  ContextVars4jSystem(boolean copyWrap) {
    this.copyWrap = copyWrap;
    others = new ContextVar[MAX_N - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = ContextVar.named("var" + i);
    }
  }

  @Override
  public void bind(int n) {
    Deque<Token<Object>> made = tokens.get();
    for (int i = 0; i < n - 1; i++) {
      made.push(others[i].set(Integer.valueOf(i)));
    }
    made.push(the.set(VALUE));
  }

  @Override
  public void unbind() {
    Deque<Token<Object>> made = tokens.get();
    while (!made.isEmpty()) {
      Token<Object> token = made.pop();
      token.var().reset(token);
    }
  }

  @Override
  public Object get() {
    return the.get();
  }

  @Override
  public Object getUnbound() {
    return unbound.get();
  }

  @Override
  public void setAndRestore() {
    the.reset(the.set(OTHER));
  }

  @Override
  public Object capture() {
    return Context.copyCurrent();
  }

  @Override
  public Runnable captureAndWrap(Runnable task) {
    return copyWrap ? Context.copyCurrent().wrap(task) : ContextExecutors.capture(task);
  }

  @Override
  public Executor wrap(ExecutorService pool) {
    return ContextExecutors.wrap(pool);
  }

  private final ContextVar<Object> h0 = ContextVar.named("h0");
  private final ContextVar<Object> h1 = ContextVar.named("h1");
  private final ContextVar<Object> h2 = ContextVar.named("h2");

  @Override
  public void request(Blackhole bh) {
    try (Token<Object> ignored = the.set(OTHER)) {
      for (int i = 0; i < REQUEST_READS; i++) {
        bh.consume(the.get());
      }
    }
  }

  @Override
  public Object handler(Blackhole bh, Executor pool, Callable<Object> hop) throws Exception {
    try (Token<Object> a = h0.set(OTHER);
        Token<Object> b = h1.set(OTHER);
        Token<Object> c = h2.set(OTHER)) {
      for (int i = 0; i < HANDLER_READS; i++) {
        bh.consume(h0.get());
        bh.consume(h1.get());
        bh.consume(h2.get());
      }
      return ExecutorHopBenchmark.handOver(pool, hop);
    }
  }

  @Override
  public Object readHandlerVars() {
    Object a = h0.get();
    Object b = h1.get();
    Object c = h2.get();
    return a == b && b == c ? a : null;
  }

  @Override
  public void replay(Object held, Runnable task) {
    ((Context) held).run(task);
  }

  @Override
  public void age(int n, int sets) {
    for (int i = 0; i < sets; i++) {
      (n == 1 ? the : others[i % (n - 1)]).set(Integer.valueOf(i));
    }
    the.set(VALUE);
  }
}

package org.contextvars4j.benchmarks;

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
  private final Deque<Token<Object>> tokens = new ArrayDeque<>();

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
    for (int i = 0; i < n - 1; i++) {
      tokens.push(others[i].set(Integer.valueOf(i)));
    }
    tokens.push(the.set(VALUE));
  }

  @Override
  public void unbind() {
    while (!tokens.isEmpty()) {
      Token<Object> token = tokens.pop();
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
}

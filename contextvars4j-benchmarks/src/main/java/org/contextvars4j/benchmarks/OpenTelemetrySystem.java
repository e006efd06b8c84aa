package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.Scope;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * OpenTelemetry's {@code io.opentelemetry.context.Context}, used as its javadoc shows. The default
 * context is an array of key/value pairs ({@code ArrayBasedContext}); {@code with} copies it.
 *
 * <ul>
 *   <li>bind: {@code Context.root().with(k1, v1)...with(k, v).makeCurrent()}, the scope closed on
 *       unbind;
 *   <li>get: {@code Context.current().get(key)}; unbound: the same for a key never set, {@code
 *       null} replaced by the default;
 *   <li>set + restore: {@code try (Scope s = Context.current().with(key, v).makeCurrent()) {}};
 *   <li>capture: {@code Context.current()};
 *   <li>capture + wrap: {@code Context.current().wrap(task)};
 *   <li>executor: {@code Context.taskWrapping(pool)}.
 * </ul>
 */
final class OpenTelemetrySystem implements ContextSystem {
  /*
   * The benchmarks jar holds contextvars4j-opentelemetry, whose storage provider OpenTelemetry
   * would pick as the only one on the class path: the peer is measured on its own default storage
   * (a ThreadLocal), chosen before OpenTelemetry first asks, and checked.
   */
  static {
    System.setProperty("io.opentelemetry.context.contextStorageProvider", "default");
    String storage = io.opentelemetry.context.ContextStorage.get().getClass().getName();
    Checks.require(
        !storage.startsWith("org.contextvars4j."),
        "OPENTELEMETRY",
        "OpenTelemetry must run on its default storage here, not on " + storage);
  }

  private final ContextKey<Object> the = ContextKey.named("the");
  private final ContextKey<Object> unbound = ContextKey.named("unbound");
  private final ContextKey<Object>[] others;
  // Per thread: the shared-system benchmarks bind the same keys on several threads.
  private final ThreadLocal<Scope> scope = ThreadLocal.withInitial(Scope::noop);

  @SuppressWarnings({"unchecked", "rawtypes"})
  OpenTelemetrySystem() {
    others = new ContextKey[MAX_N - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = ContextKey.named("var" + i);
    }
  }

  @Override
  public void bind(int n) {
    Context context = Context.current();
    for (int i = 0; i < n - 1; i++) {
      context = context.with(others[i], Integer.valueOf(i));
    }
    scope.set(context.with(the, VALUE).makeCurrent());
  }

  @Override
  public void unbind() {
    scope.get().close();
    scope.remove();
  }

  @Override
  public Object get() {
    return Context.current().get(the);
  }

  @Override
  public Object getUnbound() {
    Object value = Context.current().get(unbound);
    return value != null ? value : DEFAULT;
  }

  @Override
  @SuppressWarnings("try") // the scope is only closed: that is the restore
  public void setAndRestore() {
    try (Scope ignored = Context.current().with(the, OTHER).makeCurrent()) {
      // The scope restores the previous context on close.
    }
  }

  @Override
  public Object capture() {
    return Context.current();
  }

  @Override
  public Runnable captureAndWrap(Runnable task) {
    return Context.current().wrap(task);
  }

  @Override
  public Executor wrap(ExecutorService pool) {
    return Context.taskWrapping(pool);
  }

  private final ContextKey<Object> h0 = ContextKey.named("h0");
  private final ContextKey<Object> h1 = ContextKey.named("h1");
  private final ContextKey<Object> h2 = ContextKey.named("h2");

  @Override
  @SuppressWarnings("try") // the scope is only closed: that is the restore
  public void request(Blackhole bh) {
    try (Scope ignored = Context.current().with(the, OTHER).makeCurrent()) {
      for (int i = 0; i < REQUEST_READS; i++) {
        bh.consume(Context.current().get(the));
      }
    }
  }

  @Override
  @SuppressWarnings("try")
  public Object handler(Blackhole bh, Executor pool, Callable<Object> hop) throws Exception {
    try (Scope ignored =
        Context.current().with(h0, OTHER).with(h1, OTHER).with(h2, OTHER).makeCurrent()) {
      for (int i = 0; i < HANDLER_READS; i++) {
        bh.consume(Context.current().get(h0));
        bh.consume(Context.current().get(h1));
        bh.consume(Context.current().get(h2));
      }
      return ExecutorHopBenchmark.handOver(pool, hop);
    }
  }

  @Override
  public Object readHandlerVars() {
    Context current = Context.current();
    Object a = current.get(h0);
    Object b = current.get(h1);
    Object c = current.get(h2);
    return a == b && b == c ? a : null;
  }

  @Override
  public void replay(Object held, Runnable task) {
    ((Context) held).wrap(task).run();
  }
}

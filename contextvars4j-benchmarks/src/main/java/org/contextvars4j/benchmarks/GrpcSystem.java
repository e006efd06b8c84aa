package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import io.grpc.Context;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * gRPC's {@code io.grpc.Context} (artifact {@code grpc-api}), used as its javadoc shows. A context
 * holds a persistent hash array mapped trie of its values and a link to its parent.
 *
 * <ul>
 *   <li>bind: {@code Context.current().withValues(...)} four at a time (so that 1,000 variables
 *       make a chain of 250 contexts, below gRPC's warning at a depth of 1,000), then {@code
 *       withValue(key, v).attach()}, detached on unbind;
 *   <li>get: {@code key.get()}; unbound: a key made with {@code Context.keyWithDefault}, {@code
 *       get()};
 *   <li>set + restore: {@code Context c = Context.current().withValue(key, v); Context previous =
 *       c.attach(); c.detach(previous)};
 *   <li>capture: {@code Context.current()};
 *   <li>capture + wrap: {@code Context.current().wrap(task)};
 *   <li>executor: {@code Context.currentContextExecutor(pool)}.
 * </ul>
 */
final class GrpcSystem implements ContextSystem {
  private final Context.Key<Object> the = Context.key("the");
  private final Context.Key<Object> unbound = Context.keyWithDefault("unbound", DEFAULT);
  private final Context.Key<Object>[] others;
  // Per thread: the shared-system benchmarks bind the same keys on several threads.
  private final ThreadLocal<Context[]> attachedAndPrevious = new ThreadLocal<>();

  @SuppressWarnings({"unchecked", "rawtypes"})
  GrpcSystem() {
    others = new Context.Key[MAX_N - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = Context.key("var" + i);
    }
  }

  @Override
  public void bind(int n) {
    Context context = Context.current();
    int i = 0;
    for (; i + 4 <= n - 1; i += 4) {
      context =
          context.withValues(
              others[i], Integer.valueOf(i),
              others[i + 1], Integer.valueOf(i + 1),
              others[i + 2], Integer.valueOf(i + 2),
              others[i + 3], Integer.valueOf(i + 3));
    }
    for (; i < n - 1; i++) {
      context = context.withValue(others[i], Integer.valueOf(i));
    }
    Context attached = context.withValue(the, VALUE);
    attachedAndPrevious.set(new Context[] {attached, attached.attach()});
  }

  @Override
  public void unbind() {
    Context[] pair = attachedAndPrevious.get();
    pair[0].detach(pair[1]);
    attachedAndPrevious.remove();
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
    Context context = Context.current().withValue(the, OTHER);
    Context before = context.attach();
    context.detach(before);
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
    return Context.currentContextExecutor(pool);
  }

  private final Context.Key<Object> h0 = Context.key("h0");
  private final Context.Key<Object> h1 = Context.key("h1");
  private final Context.Key<Object> h2 = Context.key("h2");

  @Override
  public void request(Blackhole bh) {
    Context context = Context.current().withValue(the, OTHER);
    Context before = context.attach();
    try {
      for (int i = 0; i < REQUEST_READS; i++) {
        bh.consume(the.get());
      }
    } finally {
      context.detach(before);
    }
  }

  @Override
  public Object handler(Blackhole bh, Executor pool, Callable<Object> hop) throws Exception {
    Context context = Context.current().withValues(h0, OTHER, h1, OTHER, h2, OTHER);
    Context before = context.attach();
    try {
      for (int i = 0; i < HANDLER_READS; i++) {
        bh.consume(h0.get());
        bh.consume(h1.get());
        bh.consume(h2.get());
      }
      return ExecutorHopBenchmark.handOver(pool, hop);
    } finally {
      context.detach(before);
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
}

package org.contextvars4j.benchmarks;

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
  private Context attached;
  private Context previous;

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
    attached = context.withValue(the, VALUE);
    previous = attached.attach();
  }

  @Override
  public void unbind() {
    attached.detach(previous);
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
}

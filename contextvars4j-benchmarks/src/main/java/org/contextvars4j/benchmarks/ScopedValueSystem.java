package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;

/**
 * JDK 25 {@code java.lang.ScopedValue}. A binding exists only inside {@code
 * ScopedValue.where(key, value)...run(op)}: {@link #bind(int)} builds that carrier of {@code n}
 * bindings, and {@link #inBindings} runs an action in it. A JMH benchmark method cannot itself run
 * inside a binding, so the reads and binds are measured in a batch inside one {@link #inBindings}
 * call ({@link InBindingsBenchmark}).
 *
 * <ul>
 *   <li>get: {@code key.get()} (hot: the per-thread scoped-value cache); unbound: {@code
 *       key.orElse(default)} of a key never bound (not cached: searches the bindings);
 *   <li>set + restore: the only way to change a scoped value, a nested binding: {@code
 *       ScopedValue.where(key, v).run(noop)};
 *   <li>capture: none. There is no API to capture the current bindings; code that wants to run
 *       work elsewhere in them must keep the carrier it bound them with;
 *   <li>capture + wrap + run: that kept carrier of {@code n} bindings, {@code () ->
 *       carrier.run(task)}: the "capture" is free, as it was built when binding;
 *   <li>executor: none in JDK 25 ({@code StructuredTaskScope}, which inherits bindings, is a
 *       preview API), so the executor hop skips it.
 * </ul>
 */
final class ScopedValueSystem implements ContextSystem {
  private final ScopedValue<Object> the = ScopedValue.newInstance();
  private final ScopedValue<Object> unbound = ScopedValue.newInstance();
  private final ScopedValue<Object>[] others;
  private ScopedValue.Carrier carrier;

  @SuppressWarnings({"unchecked", "rawtypes"})
  ScopedValueSystem() {
    others = new ScopedValue[MAX_N - 1];
    for (int i = 0; i < others.length; i++) {
      others[i] = ScopedValue.newInstance();
    }
  }

  @Override
  public void bind(int n) {
    ScopedValue.Carrier bindings = null;
    for (int i = 0; i < n - 1; i++) {
      bindings =
          bindings == null
              ? ScopedValue.where(others[i], Integer.valueOf(i))
              : bindings.where(others[i], Integer.valueOf(i));
    }
    carrier = bindings == null ? ScopedValue.where(the, VALUE) : bindings.where(the, VALUE);
  }

  @Override
  public void unbind() {
    carrier = null;
  }

  @Override
  public void inBindings(Runnable action) {
    carrier.run(action);
  }

  @Override
  public Object get() {
    return the.get();
  }

  @Override
  public Object getUnbound() {
    return unbound.orElse(DEFAULT);
  }

  @Override
  public void setAndRestore() {
    ScopedValue.where(the, OTHER).run(NOOP);
  }

  @Override
  public Object capture() {
    throw new UnsupportedOperationException(
        "ScopedValue has no capture: the code that bound the values must keep its carrier");
  }

  @Override
  public Runnable captureAndWrap(Runnable task) {
    ScopedValue.Carrier kept = carrier;
    return () -> kept.run(task);
  }

  @Override
  public Executor wrap(ExecutorService pool) {
    throw new UnsupportedOperationException(
        "ScopedValue has no executor wrapper in JDK 25 (StructuredTaskScope is a preview API)");
  }

  @Override
  public void request(Blackhole bh) {
    ScopedValue.where(the, OTHER)
        .run(
            () -> {
              for (int i = 0; i < REQUEST_READS; i++) {
                bh.consume(the.get());
              }
            });
  }

  @Override
  public Object handler(Blackhole bh, Executor pool, Callable<Object> hop) {
    throw new UnsupportedOperationException(
        "ScopedValue has no executor wrapper in JDK 25 (StructuredTaskScope is a preview API)");
  }

  @Override
  public Object readHandlerVars() {
    throw new UnsupportedOperationException("ScopedValue has no executor wrapper");
  }

  @Override
  public void replay(Object held, Runnable task) {
    throw new UnsupportedOperationException(
        "ScopedValue has no capture: the code that bound the values must keep its carrier");
  }
}

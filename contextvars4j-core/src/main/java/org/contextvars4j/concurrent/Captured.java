package org.contextvars4j.concurrent;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.contextvars4j.Context;
import org.contextvars4j.internal.ContextAccess;
import org.jspecify.annotations.Nullable;

/**
 * Binds a function to the mapping current now: the returned function runs the given one in a new
 * context holding that mapping, wherever and whenever it runs, a new context for every run.
 * Capturing is a read of the current (immutable) mapping: no copy, no context object.
 */
final class Captured {
  // Constant for the JIT: every call through it is to the one implementation.
  private static final ContextAccess ACCESS = ContextAccess.get();

  private Captured() {}

  static ContextTask runnable(Runnable task, String name) {
    Objects.requireNonNull(task, name);
    return ContextTask.capture(task);
  }

  static <V extends @Nullable Object> Callable<V> callable(Callable<V> task, String name) {
    Objects.requireNonNull(task, name);
    Object mapping = ACCESS.currentMapping();
    // Adapted once here, not on every run.
    Context.CallableOp<V, Exception> op = task::call;
    return () -> ACCESS.callInNew(mapping, op);
  }

  static <T extends @Nullable Object> Supplier<T> supplier(Supplier<T> supplier, String name) {
    Objects.requireNonNull(supplier, name);
    Object mapping = ACCESS.currentMapping();
    Context.CallableOp<T, RuntimeException> op = supplier::get;
    return () -> ACCESS.callInNew(mapping, op);
  }

  static <T extends @Nullable Object, R extends @Nullable Object> Function<T, R> function(
      Function<T, R> fn) {
    Objects.requireNonNull(fn, "fn");
    Object mapping = ACCESS.currentMapping();
    return t -> ACCESS.callInNew(mapping, () -> fn.apply(t));
  }

  static <T extends @Nullable Object> Consumer<T> consumer(Consumer<T> action) {
    Objects.requireNonNull(action, "action");
    Object mapping = ACCESS.currentMapping();
    return t -> ACCESS.runInNew(mapping, () -> action.accept(t));
  }

  static Runnable runnable(Runnable action) {
    Objects.requireNonNull(action, "action");
    return ContextTask.capture(action);
  }

  static <T extends @Nullable Object, U extends @Nullable Object, R extends @Nullable Object>
      BiFunction<T, U, R> biFunction(BiFunction<T, U, R> fn) {
    Objects.requireNonNull(fn, "fn");
    Object mapping = ACCESS.currentMapping();
    return (t, u) -> ACCESS.callInNew(mapping, () -> fn.apply(t, u));
  }

  static <T extends @Nullable Object, U extends @Nullable Object> BiConsumer<T, U> biConsumer(
      BiConsumer<T, U> action) {
    Objects.requireNonNull(action, "action");
    Object mapping = ACCESS.currentMapping();
    return (t, u) -> ACCESS.runInNew(mapping, () -> action.accept(t, u));
  }
}

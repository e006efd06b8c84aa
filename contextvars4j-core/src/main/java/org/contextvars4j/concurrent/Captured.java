package org.contextvars4j.concurrent;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.contextvars4j.Context;
import org.jspecify.annotations.Nullable;

/**
 * Binds a function to a copy of the context current now: the returned function runs the given one
 * in that copy, wherever and whenever it runs. Each returned function is meant to run once (a
 * task, a stage); one that may run several times at once must be bound once per run.
 */
final class Captured {
  private Captured() {}

  static ContextTask runnable(Runnable task, String name) {
    Objects.requireNonNull(task, name);
    return new ContextTask(Context.copyCurrent(), task);
  }

  static <V extends @Nullable Object> Callable<V> callable(Callable<V> task, String name) {
    Objects.requireNonNull(task, name);
    Context snapshot = Context.copyCurrent();
    return () -> snapshot.call(task::call);
  }

  static <T extends @Nullable Object> Supplier<T> supplier(Supplier<T> supplier, String name) {
    Objects.requireNonNull(supplier, name);
    Context snapshot = Context.copyCurrent();
    return () -> snapshot.call(supplier::get);
  }

  static <T extends @Nullable Object, R extends @Nullable Object> Function<T, R> function(
      Function<T, R> fn) {
    Objects.requireNonNull(fn, "fn");
    Context snapshot = Context.copyCurrent();
    return t -> snapshot.call(() -> fn.apply(t));
  }

  static <T extends @Nullable Object> Consumer<T> consumer(Consumer<T> action) {
    Objects.requireNonNull(action, "action");
    Context snapshot = Context.copyCurrent();
    return t -> snapshot.run(() -> action.accept(t));
  }

  static Runnable runnable(Runnable action) {
    Objects.requireNonNull(action, "action");
    Context snapshot = Context.copyCurrent();
    return () -> snapshot.run(action);
  }

  static <T extends @Nullable Object, U extends @Nullable Object, R extends @Nullable Object>
      BiFunction<T, U, R> biFunction(BiFunction<T, U, R> fn) {
    Objects.requireNonNull(fn, "fn");
    Context snapshot = Context.copyCurrent();
    return (t, u) -> snapshot.call(() -> fn.apply(t, u));
  }

  static <T extends @Nullable Object, U extends @Nullable Object> BiConsumer<T, U> biConsumer(
      BiConsumer<T, U> action) {
    Objects.requireNonNull(action, "action");
    Context snapshot = Context.copyCurrent();
    return (t, u) -> snapshot.run(() -> action.accept(t, u));
  }
}

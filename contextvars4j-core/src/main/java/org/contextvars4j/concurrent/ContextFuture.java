package org.contextvars4j.concurrent;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CompletableFuture} whose dependent stages run their functions in a copy of the context
 * current where each stage was attached, whichever thread completes the future and whichever runs
 * the stage (asyncio: {@code add_done_callback} copies the context at registration).
 *
 * <p>Every {@link CompletionStage} method is overridden to bind its function, and {@link
 * #newIncompleteFuture()} makes every derived future a {@code ContextFuture} too, so the rule
 * holds along whole chains. The {@code *Async} methods without an executor use {@link
 * #defaultExecutor()}, which is the JDK's own default.
 */
class ContextFuture<T extends @Nullable Object> extends CompletableFuture<T> {

  ContextFuture() {}

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> newIncompleteFuture() {
    return new ContextFuture<>();
  }

  @Override
  public CompletionStage<T> minimalCompletionStage() {
    MinimalContextStage<T> stage = new MinimalContextStage<>();
    relayTo(stage);
    return stage;
  }

  /**
   * Completes {@code target} with this future's outcome when this future completes, a failure
   * wrapped in a {@link CompletionException} as the JDK's {@code minimalCompletionStage()} and
   * {@code toCompletableFuture()} of a minimal stage specify ("completes exceptionally with a
   * CompletionException with this exception as cause").
   */
  final void relayTo(ContextFuture<T> target) {
    // CompletableFuture's own whenComplete: copying an outcome needs no context.
    super.whenComplete(
        (value, failure) ->
            target.completeFrom(
                value,
                failure == null || failure instanceof CompletionException
                    ? failure
                    : new CompletionException(failure)));
  }

  /** As {@link CompletableFuture#completeAsync(Supplier, Executor)}, the supplier in a copy. */
  @Override
  public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
    return super.completeAsync(Captured.supplier(supplier, "supplier"), executor);
  }

  /** As {@link CompletableFuture#completeAsync(Supplier)}, the supplier in a copy. */
  @Override
  public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
    return super.completeAsync(Captured.supplier(supplier, "supplier"));
  }

  /** Completes this future on behalf of another, with its outcome as it was. */
  final void completeFrom(@Nullable T value, @Nullable Throwable failure) {
    if (failure == null) {
      super.complete(value);
    } else {
      super.completeExceptionally(failure);
    }
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> thenApply(Function<? super T, ? extends U> fn) {
    return super.thenApply(Captured.function(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn) {
    return super.thenApplyAsync(Captured.function(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> thenApplyAsync(Function<? super T, ? extends U> fn, Executor executor) {
    return super.thenApplyAsync(Captured.function(fn), executor);
  }

  @Override
  public CompletableFuture<Void> thenAccept(Consumer<? super T> action) {
    return super.thenAccept(Captured.consumer(action));
  }

  @Override
  public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action) {
    return super.thenAcceptAsync(Captured.consumer(action));
  }

  @Override
  public CompletableFuture<Void> thenAcceptAsync(Consumer<? super T> action, Executor executor) {
    return super.thenAcceptAsync(Captured.consumer(action), executor);
  }

  @Override
  public CompletableFuture<Void> thenRun(Runnable action) {
    return super.thenRun(Captured.runnable(action));
  }

  @Override
  public CompletableFuture<Void> thenRunAsync(Runnable action) {
    return super.thenRunAsync(Captured.runnable(action));
  }

  @Override
  public CompletableFuture<Void> thenRunAsync(Runnable action, Executor executor) {
    return super.thenRunAsync(Captured.runnable(action), executor);
  }

  @Override
  public <U extends @Nullable Object, V extends @Nullable Object> CompletableFuture<V> thenCombine(CompletionStage<? extends U> other, BiFunction<? super T, ? super U, ? extends V> fn) {
    return super.thenCombine(other, Captured.biFunction(fn));
  }

  @Override
  public <U extends @Nullable Object, V extends @Nullable Object> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other, BiFunction<? super T, ? super U, ? extends V> fn) {
    return super.thenCombineAsync(other, Captured.biFunction(fn));
  }

  @Override
  public <U extends @Nullable Object, V extends @Nullable Object> CompletableFuture<V> thenCombineAsync(CompletionStage<? extends U> other, BiFunction<? super T, ? super U, ? extends V> fn, Executor executor) {
    return super.thenCombineAsync(other, Captured.biFunction(fn), executor);
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<Void> thenAcceptBoth(CompletionStage<? extends U> other, BiConsumer<? super T, ? super U> action) {
    return super.thenAcceptBoth(other, Captured.biConsumer(action));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other, BiConsumer<? super T, ? super U> action) {
    return super.thenAcceptBothAsync(other, Captured.biConsumer(action));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<Void> thenAcceptBothAsync(CompletionStage<? extends U> other, BiConsumer<? super T, ? super U> action, Executor executor) {
    return super.thenAcceptBothAsync(other, Captured.biConsumer(action), executor);
  }

  @Override
  public CompletableFuture<Void> runAfterBoth(CompletionStage<?> other, Runnable action) {
    return super.runAfterBoth(other, Captured.runnable(action));
  }

  @Override
  public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action) {
    return super.runAfterBothAsync(other, Captured.runnable(action));
  }

  @Override
  public CompletableFuture<Void> runAfterBothAsync(CompletionStage<?> other, Runnable action, Executor executor) {
    return super.runAfterBothAsync(other, Captured.runnable(action), executor);
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> applyToEither(CompletionStage<? extends T> other, Function<? super T, U> fn) {
    return super.applyToEither(other, Captured.function(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn) {
    return super.applyToEitherAsync(other, Captured.function(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> applyToEitherAsync(CompletionStage<? extends T> other, Function<? super T, U> fn, Executor executor) {
    return super.applyToEitherAsync(other, Captured.function(fn), executor);
  }

  @Override
  public CompletableFuture<Void> acceptEither(CompletionStage<? extends T> other, Consumer<? super T> action) {
    return super.acceptEither(other, Captured.consumer(action));
  }

  @Override
  public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action) {
    return super.acceptEitherAsync(other, Captured.consumer(action));
  }

  @Override
  public CompletableFuture<Void> acceptEitherAsync(CompletionStage<? extends T> other, Consumer<? super T> action, Executor executor) {
    return super.acceptEitherAsync(other, Captured.consumer(action), executor);
  }

  @Override
  public CompletableFuture<Void> runAfterEither(CompletionStage<?> other, Runnable action) {
    return super.runAfterEither(other, Captured.runnable(action));
  }

  @Override
  public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action) {
    return super.runAfterEitherAsync(other, Captured.runnable(action));
  }

  @Override
  public CompletableFuture<Void> runAfterEitherAsync(CompletionStage<?> other, Runnable action, Executor executor) {
    return super.runAfterEitherAsync(other, Captured.runnable(action), executor);
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> thenCompose(Function<? super T, ? extends CompletionStage<U>> fn) {
    return super.thenCompose(Captured.function(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn) {
    return super.thenComposeAsync(Captured.function(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> thenComposeAsync(Function<? super T, ? extends CompletionStage<U>> fn, Executor executor) {
    return super.thenComposeAsync(Captured.function(fn), executor);
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> handle(BiFunction<? super T, Throwable, ? extends U> fn) {
    return super.handle(Captured.biFunction(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn) {
    return super.handleAsync(Captured.biFunction(fn));
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> handleAsync(BiFunction<? super T, Throwable, ? extends U> fn, Executor executor) {
    return super.handleAsync(Captured.biFunction(fn), executor);
  }

  @Override
  public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
    return super.whenComplete(Captured.biConsumer(action));
  }

  @Override
  public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action) {
    return super.whenCompleteAsync(Captured.biConsumer(action));
  }

  @Override
  public CompletableFuture<T> whenCompleteAsync(BiConsumer<? super T, ? super Throwable> action, Executor executor) {
    return super.whenCompleteAsync(Captured.biConsumer(action), executor);
  }

  @Override
  public CompletableFuture<T> exceptionally(Function<Throwable, ? extends T> fn) {
    return super.exceptionally(Captured.function(fn));
  }

  @Override
  public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn) {
    return super.exceptionallyAsync(Captured.function(fn));
  }

  @Override
  public CompletableFuture<T> exceptionallyAsync(Function<Throwable, ? extends T> fn, Executor executor) {
    return super.exceptionallyAsync(Captured.function(fn), executor);
  }

  @Override
  public CompletableFuture<T> exceptionallyCompose(Function<Throwable, ? extends CompletionStage<T>> fn) {
    return super.exceptionallyCompose(Captured.function(fn));
  }

  @Override
  public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn) {
    return super.exceptionallyComposeAsync(Captured.function(fn));
  }

  @Override
  public CompletableFuture<T> exceptionallyComposeAsync(Function<Throwable, ? extends CompletionStage<T>> fn, Executor executor) {
    return super.exceptionallyComposeAsync(Captured.function(fn), executor);
  }
}

package org.contextvars4j.concurrent;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What {@link ContextFuture#minimalCompletionStage()} returns: a {@link ContextFuture} limited to
 * the {@link java.util.concurrent.CompletionStage} methods, as the JDK's own minimal stage is (the
 * JDK's would drop the context of its dependents, since it is not a {@code ContextFuture}).
 */
final class MinimalContextStage<T extends @Nullable Object> extends ContextFuture<T> {

  MinimalContextStage() {}

  private static UnsupportedOperationException minimal() {
    return new UnsupportedOperationException(
        "a minimal CompletionStage supports only the CompletionStage methods; use"
            + " toCompletableFuture() for the others");
  }

  @Override
  public <U extends @Nullable Object> CompletableFuture<U> newIncompleteFuture() {
    return new MinimalContextStage<>();
  }

  @Override
  public CompletableFuture<T> toCompletableFuture() {
    ContextFuture<T> full = new ContextFuture<>();
    relayTo(full);
    return full;
  }

  @Override
  public T get() {
    throw minimal();
  }

  @Override
  public T get(long timeout, TimeUnit unit) {
    throw minimal();
  }

  @Override
  public T getNow(T valueIfAbsent) {
    throw minimal();
  }

  @Override
  public T join() {
    throw minimal();
  }

  @Override
  public T resultNow() {
    throw minimal();
  }

  @Override
  public Throwable exceptionNow() {
    throw minimal();
  }

  @Override
  public boolean complete(T value) {
    throw minimal();
  }

  @Override
  public boolean completeExceptionally(Throwable ex) {
    throw minimal();
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    throw minimal();
  }

  @Override
  public void obtrudeValue(T value) {
    throw minimal();
  }

  @Override
  public void obtrudeException(Throwable ex) {
    throw minimal();
  }

  @Override
  public boolean isDone() {
    throw minimal();
  }

  @Override
  public boolean isCancelled() {
    throw minimal();
  }

  @Override
  public boolean isCompletedExceptionally() {
    throw minimal();
  }

  @Override
  public State state() {
    throw minimal();
  }

  @Override
  public int getNumberOfDependents() {
    throw minimal();
  }

  @Override
  public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier, Executor executor) {
    throw minimal();
  }

  @Override
  public CompletableFuture<T> completeAsync(Supplier<? extends T> supplier) {
    throw minimal();
  }

  @Override
  public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
    throw minimal();
  }

  @Override
  public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
    throw minimal();
  }
}

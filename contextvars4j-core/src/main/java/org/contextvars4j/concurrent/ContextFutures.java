package org.contextvars4j.concurrent;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@link CompletableFuture}s that carry the context: the supplier of {@code supplyAsync} runs in a
 * copy of the caller's context, and every dependent stage of the returned future, and of every
 * future derived from it, runs its function in a copy of the context current <i>where that stage
 * was attached</i>, whichever thread completes the future and whichever thread runs the stage
 * (asyncio: {@code add_done_callback} copies the context at registration).
 *
 * {@snippet lang = java :
 * try (var token = REQUEST_ID.set("r-42")) {
 *   ContextFutures.supplyAsync(() -> load(REQUEST_ID.get()))       // runs in a copy: "r-42"
 *       .thenApply(row -> render(row, REQUEST_ID.get()))             // attached here: "r-42"
 *       .whenComplete((page, failure) -> audit(REQUEST_ID.get()));   // "r-42", on any thread
 * }
 * }
 *
 * <h2>Why "where the stage was attached"</h2>
 *
 * A stage's function runs later, often on another thread. Running it in the context current on
 * that thread would hand it some other request's values; running it in the context of the code
 * that <i>created the future</i> would ignore what the attaching code set. The attaching code is
 * the code that wants the function, so its context is the one the function sees, as in asyncio.
 * A stage's sets stay in its own copy: they never reach the attaching code, other stages, or the
 * thread that ran them.
 *
 * <h2>Covered and not covered</h2>
 *
 * Covered: every {@link CompletionStage} method (sync, {@code *Async} with and without an
 * executor, {@code exceptionally*}, {@code handle}, {@code whenComplete}, {@code thenCompose}),
 * {@code completeAsync}, the futures all of them return, {@code copy()}, and {@code
 * minimalCompletionStage()}. The {@code *Async} methods without an executor use the JDK's default
 * executor. Not covered: a future made elsewhere ({@code CompletableFuture.supplyAsync}, an HTTP
 * client's) until it is passed through {@link #wrap(CompletableFuture)}, and the futures of
 * static methods such as {@link CompletableFuture#allOf}, which are plain; wrap them too.
 *
 * <h2>Threads and nulls</h2>
 *
 * This class is thread-safe (it has no state), and so are the futures it returns, as {@code
 * CompletableFuture}s are. Unless otherwise specified, passing a {@code null} argument to a method
 * of this class, or a {@code null} function to a returned future, causes a {@link
 * NullPointerException} to be thrown.
 *
 * @since 0.1
 */
public final class ContextFutures {
  private ContextFutures() {}

  /**
   * Returns a future completed by {@code supplier}, run in a copy of the current context on the
   * JDK's default asynchronous executor (that of {@link CompletableFuture#supplyAsync(Supplier)}).
   *
   * @param supplier computes the value; not {@code null}
   * @param <T> the type of the value
   * @return a new future whose dependents carry the context
   * @throws NullPointerException if {@code supplier} is {@code null}
   */
  public static <T extends @Nullable Object> CompletableFuture<T> supplyAsync(
      Supplier<T> supplier) {
    Objects.requireNonNull(supplier, "supplier");
    return new ContextFuture<T>().completeAsync(supplier);
  }

  /**
   * Returns a future completed by {@code supplier}, run in a copy of the current context on
   * {@code executor}.
   *
   * @param supplier computes the value; not {@code null}
   * @param executor runs the supplier; not {@code null}
   * @param <T> the type of the value
   * @return a new future whose dependents carry the context
   * @throws NullPointerException if {@code supplier} or {@code executor} is {@code null}
   */
  public static <T extends @Nullable Object> CompletableFuture<T> supplyAsync(
      Supplier<T> supplier, Executor executor) {
    Objects.requireNonNull(supplier, "supplier");
    Objects.requireNonNull(executor, "executor");
    return new ContextFuture<T>().completeAsync(supplier, executor);
  }

  /**
   * Returns a future completed after {@code action} ran in a copy of the current context on the
   * JDK's default asynchronous executor.
   *
   * @param action what to run; not {@code null}
   * @return a new future whose dependents carry the context
   * @throws NullPointerException if {@code action} is {@code null}
   */
  public static CompletableFuture<@Nullable Void> runAsync(Runnable action) {
    Objects.requireNonNull(action, "action");
    return new ContextFuture<@Nullable Void>().completeAsync(() -> run(action));
  }

  /**
   * Returns a future completed after {@code action} ran in a copy of the current context on
   * {@code executor}.
   *
   * @param action what to run; not {@code null}
   * @param executor runs the action; not {@code null}
   * @return a new future whose dependents carry the context
   * @throws NullPointerException if {@code action} or {@code executor} is {@code null}
   */
  public static CompletableFuture<@Nullable Void> runAsync(Runnable action, Executor executor) {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(executor, "executor");
    return new ContextFuture<@Nullable Void>().completeAsync(() -> run(action), executor);
  }

  private static @Nullable Void run(Runnable action) {
    action.run();
    return null;
  }

  /**
   * Returns a future, already completed with {@code value}, whose dependents carry the context.
   *
   * @param value the value; may be {@code null}
   * @param <T> the type of the value
   * @return a completed future
   */
  public static <T extends @Nullable Object> CompletableFuture<T> completedFuture(T value) {
    ContextFuture<T> future = new ContextFuture<>();
    future.completeFrom(value, null);
    return future;
  }

  /**
   * Returns a future that completes with the same value or exception as {@code future}, and whose
   * dependents carry the context; when {@code future} is already complete, so is the returned one,
   * at once. For futures made elsewhere (an HTTP client's, {@code CompletableFuture.allOf}'s).
   * Cancelling the returned future does not cancel {@code future}, as with {@link
   * CompletableFuture#copy()}. A future that already carries the context is returned unchanged.
   *
   * @param future the future to follow; not {@code null}
   * @param <T> the type of the value
   * @return a future whose dependents carry the context
   * @throws NullPointerException if {@code future} is {@code null}
   */
  public static <T extends @Nullable Object> CompletableFuture<T> wrap(
      CompletableFuture<T> future) {
    Objects.requireNonNull(future, "future");
    if (future instanceof ContextFuture<T> carrying && !(future instanceof MinimalContextStage)) {
      return carrying;
    }
    return follow(future);
  }

  /**
   * Returns a future that completes with the same value or exception as {@code stage}, and whose
   * dependents carry the context; see {@link #wrap(CompletableFuture)}.
   *
   * @param stage the stage to follow; not {@code null}
   * @param <T> the type of the value
   * @return a future whose dependents carry the context
   * @throws NullPointerException if {@code stage} is {@code null}
   */
  public static <T extends @Nullable Object> CompletableFuture<T> wrap(CompletionStage<T> stage) {
    Objects.requireNonNull(stage, "stage");
    if (stage instanceof CompletableFuture<T> future) {
      return wrap(future);
    }
    return follow(stage);
  }

  private static <T extends @Nullable Object> CompletableFuture<T> follow(
      CompletionStage<T> stage) {
    ContextFuture<T> follower = new ContextFuture<>();
    // Runs at once, on this thread, when the stage is already complete.
    stage.whenComplete(follower::completeFrom);
    return follower;
  }
}

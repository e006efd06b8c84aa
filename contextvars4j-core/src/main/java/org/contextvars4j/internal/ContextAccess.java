package org.contextvars4j.internal;

import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.jspecify.annotations.Nullable;

/**
 * The fast paths that {@code org.contextvars4j.concurrent} and contextvars4j's integration modules
 * need from {@code org.contextvars4j}: capturing the current mapping without making a {@link
 * Context} object, running a task in a context that no one else can reach (so that entering it
 * needs no atomic operation), a coroutine's steps, and a set without a token.
 *
 * <p>This class is internal and is hence not for public use. Its APIs are unstable and can change
 * at any time. The module exports the package only to the modules of contextvars4j that use it.
 * The implementation is thread-safe and
 * stateless; {@link #install} is called once, while {@code Context} is initialised.
 */
public abstract class ContextAccess {
  private static volatile @Nullable ContextAccess instance;

  /** For the one implementation, in {@code org.contextvars4j}. */
  protected ContextAccess() {}

  /**
   * Installs the implementation; called once, when {@link Context} is initialised.
   *
   * @param access the implementation
   * @throws IllegalStateException if one is already installed
   */
  public static synchronized void install(ContextAccess access) {
    if (instance != null) {
      throw new IllegalStateException("ContextAccess is installed once, by org.contextvars4j");
    }
    instance = access;
  }

  /**
   * {@return the implementation} Initialises {@link Context} if needed, which installs it.
   */
  public static ContextAccess get() {
    ContextAccess access = instance;
    if (access == null) {
      try {
        Class.forName(Context.class.getName(), true, Context.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      access = instance;
      if (access == null) {
        throw new IllegalStateException("org.contextvars4j.Context did not install ContextAccess");
      }
    }
    return access;
  }

  /**
   * {@return the current thread's current mapping} It is immutable and opaque: pass it back to
   * {@link #runInNew} or {@link #callInNew}.
   */
  public abstract Object currentMapping();

  /**
   * Runs {@code task} in a new context holding {@code mapping}, then restores the previous one.
   *
   * @param mapping the values of the new context
   * @param task the task
   */
  public abstract void runInNew(Object mapping, Runnable task);

  /**
   * Calls {@code op} in a new context holding {@code mapping}, then restores the previous one.
   *
   * @param mapping the values of the new context
   * @param op the operation
   * @param <R> the type of the result
   * @param <X> the type of the exception
   * @return the result of {@code op}
   * @throws X what {@code op} throws
   */
  public abstract <R extends @Nullable Object, X extends Throwable> R callInNew(
      Object mapping, Context.CallableOp<R, X> op) throws X;

  /**
   * Binds {@code var} to {@code value} in the current context, as {@link ContextVar#set} does,
   * for a caller that drops the token: no token is made, and a value that replaces the one the
   * current frame's newest set gave the same variable takes its place. For the logging
   * integrations, whose maps change by replacing one immutable value.
   *
   * @param var the variable
   * @param value its new value
   * @param <T> the variable's type
   */
  public abstract <T extends @Nullable Object> void bind(ContextVar<T> var, T value);

  /**
   * Opens, on the calling thread, a step of a task that runs in {@code task} across threads (a
   * Kotlin coroutine between two suspensions): until {@link #leaveStep}, {@code task} is the
   * current context, and every set made in it is published in {@code task} at once, so that the
   * task's next step, on any thread, sees it. Steps of one task may overlap (the next one opens
   * before this one is left): no step claims {@code task}, and leaving writes nothing back.
   *
   * @param task the task's context
   * @return the step, to pass to {@link #leaveStep} on this thread
   */
  public abstract Object enterStep(Context task);

  /**
   * Leaves {@code step} and every step opened above it on the calling thread, back to the context
   * that was current before it; does nothing if it is not open on the calling thread (left
   * already, or opened on another thread). Never throws.
   *
   * @param step what {@link #enterStep} returned
   */
  public abstract void leaveStep(Object step);
}

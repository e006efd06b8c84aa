package org.contextvars4j.agent.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.FutureTask;
import org.jspecify.annotations.Nullable;

/**
 * What the JDK's own adapters hold: the function a {@link FutureTask}, a {@link ForkJoinTask}
 * adapter or {@link Executors#callable(Runnable)} wraps. A pool's {@code submit} wraps what it is
 * given in one of them before it reaches {@code execute}, so this is how the agent tells that a
 * task submitted through the core's wrappers is carried already.
 *
 * <p>Reads private fields of {@code java.util.concurrent}, which the installer opens to the agent.
 * A field this JDK does not have (its adapters changed) is not read: the task is then carried
 * again, which is correct, at the cost of one context more.
 *
 * <p>Thread-safe: the fields are read once the task is handed over, by the thread that handed it
 * over, which made it.
 */
final class Adapted {
  private static final @Nullable VarHandle FUTURE_TASK_CALLABLE =
      field(FutureTask.class, "callable", Callable.class);
  private static final @Nullable Class<?> RUNNABLE_ADAPTER =
      jdkClass("java.util.concurrent.Executors$RunnableAdapter");
  private static final @Nullable VarHandle RUNNABLE_ADAPTER_TASK =
      field(RUNNABLE_ADAPTER, "task", Runnable.class);

  /** The {@code ForkJoinTask} adapters, each with the field holding what it adapts. */
  private static final ClassValue<@Nullable VarHandle> FORK_JOIN_ADAPTERS =
      new ClassValue<>() {
        @Override
        protected @Nullable VarHandle computeValue(Class<?> type) {
          if (type.getEnclosingClass() != ForkJoinTask.class) {
            return null;
          }
          return switch (type.getSimpleName()) {
            case "AdaptedRunnable", "AdaptedRunnableAction", "RunnableExecuteAction" ->
                field(type, "runnable", Runnable.class);
            case "AdaptedCallable", "AdaptedInterruptibleCallable" ->
                field(type, "callable", Callable.class);
            default -> null;
          };
        }
      };

  private Adapted() {}

  /**
   * {@return the function {@code task} adapts, through any number of the JDK's adapters, or
   * {@code task} itself if it is none of them}
   *
   * @param task a task handed to a pool
   */
  static Object function(Object task) {
    Object current = task;
    while (true) {
      Object inner = adapted(current);
      if (inner == null) {
        return current;
      }
      current = inner;
    }
  }

  private static @Nullable Object adapted(Object task) {
    Class<?> type = task.getClass();
    // Exactly the JDK's: a subclass may override run or done, and must run bound.
    if (type == FutureTask.class) {
      return FUTURE_TASK_CALLABLE == null ? null : FUTURE_TASK_CALLABLE.get(task);
    }
    if (type == RUNNABLE_ADAPTER) {
      return RUNNABLE_ADAPTER_TASK == null ? null : RUNNABLE_ADAPTER_TASK.get(task);
    }
    if (task instanceof ForkJoinTask<?>) {
      VarHandle field = FORK_JOIN_ADAPTERS.get(type);
      return field == null ? null : field.get(task);
    }
    return null;
  }

  private static @Nullable Class<?> jdkClass(String name) {
    try {
      return Class.forName(name, false, null);
    } catch (ClassNotFoundException e) {
      return null;
    }
  }

  private static @Nullable VarHandle field(@Nullable Class<?> owner, String name, Class<?> type) {
    if (owner == null) {
      return null;
    }
    try {
      return MethodHandles.privateLookupIn(owner, MethodHandles.lookup())
          .findVarHandle(owner, name, type);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}

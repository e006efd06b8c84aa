package org.contextvars4j.spring.boot;

import java.util.Objects;
import org.contextvars4j.concurrent.ContextExecutors;
import org.springframework.core.task.TaskDecorator;

/**
 * A {@link TaskDecorator} under which every task runs in a copy of the context that was current
 * where it was handed to the executor: asyncio's rule for a task. The task sees the submitter's
 * variables (and the MDC, the OpenTelemetry context, whatever lives in the context); what it sets
 * never reaches the submitter, a sibling task, or the next task on the same pooled thread.
 *
 * <p>A task that runs more than once, as a periodic task of a scheduler does, starts every run from
 * the values captured when it was handed over; no run sees another's sets.
 *
 * <p>{@link ContextVarsAutoConfiguration} gives it to the executors and schedulers Spring Boot
 * builds ({@code applicationTaskExecutor}, hence {@code @Async} and Spring MVC's asynchronous
 * requests, {@code taskScheduler}, and every executor made with Boot's builders, on virtual threads
 * too). Elsewhere, set it with {@code setTaskDecorator} on a {@code ThreadPoolTaskExecutor}, {@code
 * SimpleAsyncTaskExecutor} or scheduler.
 *
 * <p>Capturing reads the current (immutable) mapping: no copy is made where the task is handed
 * over, and one context object per run where it runs.
 *
 * <p>Thread safety: stateless, safe for concurrent use.
 */
public final class ContextTaskDecorator implements TaskDecorator {

  /** Creates the decorator; it holds no state, so one instance serves every executor. */
  public ContextTaskDecorator() {}

  /**
   * {@return {@code runnable} bound to the current context's mapping}
   *
   * @param runnable the task, as the executor was given it; not {@code null}
   * @throws NullPointerException if {@code runnable} is {@code null}
   */
  @Override
  public Runnable decorate(Runnable runnable) {
    Objects.requireNonNull(runnable, "runnable");
    return ContextExecutors.capture(runnable);
  }

  @Override
  public String toString() {
    return "ContextTaskDecorator";
  }
}

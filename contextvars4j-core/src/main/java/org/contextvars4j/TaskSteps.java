package org.contextvars4j;

import org.jspecify.annotations.Nullable;

/**
 * The steps of a task that runs in one {@link Context} across threads: a Kotlin coroutine, whose
 * every run between two suspensions is a step, on whichever thread the dispatcher picks. Python's
 * asyncio runs each step of a task with {@code context.run(step)}; kotlinx.coroutines calls a
 * context element before and after each step instead, in ways a {@code run} or an {@code
 * enter()}/{@code close()} pair does not survive:
 *
 * <ul>
 *   <li>the next step may start on another thread while this thread is still leaving the step
 *       before (kotlinx restores late): a step publishes each set in the Context as it is made,
 *       so the next step sees it, and writes nothing back when it leaves, so a late leave undoes
 *       nothing (see ThreadState's notes on step frames);
 *   <li>a step of the same task may open on the same thread inside another (an undispatched
 *       {@code withContext}): the outer step sees the inner one's sets when it goes on;
 *   <li>an outer step may be left before an inner one that is still open on the thread, and that
 *       inner one's leave may come later, even on another thread (kotlinx 1.11's undispatched
 *       {@code withContext} in {@code flowOn}): leaving a step leaves every step opened above it
 *       on this thread, and leaving a step that is no longer open here does nothing.
 * </ul>
 *
 * No step claims its Context (no compare-and-set, no {@code already entered}): two steps of one
 * task overlap in the cases above. Entering a task's Context with {@code run}, {@code call} or
 * {@code enter()} while a step of the task is open elsewhere is not detected.
 *
 * <p>Thread-safety: each thread keeps its own chain of open steps; a step object is used by the
 * thread that opened it (a leave on any other thread ignores it).
 */
final class TaskSteps {
  /** The innermost step open on this thread, whose outer link is the next one down. */
  private static final ThreadLocal<@Nullable Step> OPEN = new ThreadLocal<>();

  private TaskSteps() {}

  /** An open step: the frame it opened, and the frame to go back to. */
  static final class Step {
    final ThreadState state;
    final Context task;
    final @Nullable Context outer;
    final Vars outerVars;
    final int outerBottom;
    final long outerEpoch;
    final @Nullable Step outerStep;
    final int bottom;
    long epoch;
    boolean open = true;

    Step(ThreadState state, Context task, @Nullable Step outerStep) {
      this.state = state;
      this.task = task;
      this.outer = state.context;
      this.outerVars = state.baseVars();
      this.outerBottom = state.bottom;
      this.outerEpoch = state.epoch;
      this.outerStep = outerStep;
      this.bottom = state.top;
    }

    @Override
    public String toString() {
      return "Step[" + task.identity() + (open ? "" : ", left") + "]";
    }
  }

  /** Opens a step of the task that runs in {@code task}, on this thread. */
  static Step enter(Context task) {
    ThreadState state = ThreadState.current();
    Step step = new Step(state, task, OPEN.get());
    state.enterStep(task);
    step.epoch = state.epoch;
    OPEN.set(step);
    return step;
  }

  /**
   * Leaves {@code step} and every step opened above it on this thread; does nothing if it is not
   * open on this thread. Never throws.
   */
  static void leave(Step step) {
    ThreadState state = ThreadState.current();
    if (step.state != state || !step.open) {
      return;
    }
    for (Step inner = OPEN.get(); inner != step; inner = OPEN.get()) {
      if (inner == null) {
        // Open, and of this thread, yet not on its chain: cannot happen; leave it alone.
        return;
      }
      close(state, inner);
    }
    close(state, step);
  }

  private static void close(ThreadState state, Step step) {
    // Scopes the step entered and did not close before it suspended: closed now, as a run
    // closes the scopes its action forgot (their close() then says they are closed already).
    while (state.epoch != step.epoch) {
      Context inner = state.context;
      if (inner == null || state.inStep() || inner.entry == null) {
        break;
      }
      Context.exitForgotten(state, null);
    }
    state.leaveStep(step.bottom, step.outer, step.outerVars, step.outerBottom, step.outerEpoch);
    step.open = false;
    OPEN.set(step.outerStep);
  }
}

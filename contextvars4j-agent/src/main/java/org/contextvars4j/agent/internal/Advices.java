package org.contextvars4j.agent.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import org.contextvars4j.Context;

/**
 * The advice inlined into the JDK's methods. Each changes what a method does with its arguments,
 * never the class's shape: no field, method or interface is added, so it applies to classes
 * loaded, or transformed by another agent, before this one.
 */
final class Advices {
  private Advices() {}

  /**
   * The type that the instrumented method declares for its argument {@code value()}: a class
   * constant, resolved per method (see {@link DeclaredTypeMapping}). A stage's function may
   * implement several functional interfaces (a callback class that is a {@code Function} and a
   * {@code Runnable}); it must come back as the one the method takes.
   */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.PARAMETER)
  @interface DeclaredType {
    /** {@return the index of the argument whose declared type this is} */
    int value();
  }

  /** {@code execute(Runnable)} and {@code submit(Runnable...)}: the task is bound here. */
  static final class RunnableArgument {
    private RunnableArgument() {}

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(value = 0, readOnly = false) Runnable task) {
      task = Propagation.runnable(task);
    }
  }

  /** {@code shutdownNow()}: the caller gets back the tasks it handed over, not the agent's. */
  static final class ShutdownNow {
    private ShutdownNow() {}

    @Advice.OnMethodExit
    static void exit(
        @Advice.Return(readOnly = false) java.util.List<Runnable> tasks) {
      tasks = Propagation.unwrapAll(tasks);
    }
  }

  /** {@code ThreadPoolExecutor.getTask()}: the worker gets the task as it was handed over. */
  static final class TakenTask {
    private TakenTask() {}

    @Advice.OnMethodExit
    static void exit(@Advice.Return(readOnly = false) Runnable task) {
      task = Propagation.taken(task);
    }
  }

  /** A {@code ThreadPoolExecutor}'s new worker: it gets its first task as it was handed over. */
  static final class WorkerFirstTask {
    private WorkerFirstTask() {}

    @Advice.OnMethodExit
    static void exit(
        @Advice.FieldValue(value = "firstTask", readOnly = false) Runnable first,
        @Advice.FieldValue("thread") Thread thread) {
      first = Propagation.firstTask(thread, first);
    }
  }

  /** {@code ThreadPoolExecutor.runWorker}: the worker's thread takes over its first task. */
  static final class WorkerRunning {
    private WorkerRunning() {}

    @Advice.OnMethodEnter
    static void enter() {
      Propagation.workerRunning();
    }
  }

  /** {@code ThreadPoolExecutor.remove(task)}: finds the task the agent bound for it. */
  static final class Remove {
    private Remove() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.This java.util.concurrent.ThreadPoolExecutor pool,
        @Advice.Argument(value = 0, readOnly = false) Runnable task) {
      task = Propagation.queued(pool.getQueue(), task);
    }
  }

  /** {@code CompletableFuture.completeAsync(supplier, executor)}: the supplier is bound here. */
  static final class StageFunctionFirst {
    private StageFunctionFirst() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.Argument(value = 0, readOnly = false, typing = Assigner.Typing.DYNAMIC)
            Object function,
        @DeclaredType(0) Class<?> declared) {
      function = Propagation.stageFunction(function, declared);
    }
  }

  /**
   * A scheduler's or pool's method taking a {@code Callable} first. Apart from {@link
   * RunnableArgument}, by the declared type: a task that is both a {@code Runnable} and a {@code
   * Callable} (Reactor's are) must come back as the type the method takes.
   */
  static final class CallableArgument {
    private CallableArgument() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.Argument(value = 0, readOnly = false) java.util.concurrent.Callable<?> task) {
      task = Propagation.callable(task);
    }
  }

  /** {@code ForkJoinTask.fork}: the task will run in a copy of the forker's context. */
  static final class Fork {
    private Fork() {}

    @Advice.OnMethodEnter
    static void enter(@Advice.This java.util.concurrent.ForkJoinTask<?> task) {
      Propagation.forking(task);
    }
  }

  /** {@code ForkJoinPool.poolSubmit}, through which every submission to a pool goes. */
  static final class PoolSubmit {
    private PoolSubmit() {}

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(1) java.util.concurrent.ForkJoinTask<?> task) {
      Propagation.forking(task);
    }
  }

  /** {@code ForkJoinTask.doExec}: a task runs. */
  static final class ForkJoinExec {
    private ForkJoinExec() {}

    @Advice.OnMethodEnter
    static Context.Scope enter(@Advice.This java.util.concurrent.ForkJoinTask<?> task) {
      return Propagation.executing(task);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    static void exit(@Advice.Enter Context.Scope scope) {
      Propagation.ran(scope);
    }
  }

  /** {@code Timer.sched}, through which every {@code schedule} goes. */
  static final class TimerTaskArgument {
    private TimerTaskArgument() {}

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(0) java.util.TimerTask task) {
      Propagation.scheduling(task);
    }
  }

  /** A {@code CompletableFuture} stage method whose function is its second argument. */
  static final class StageFunctionSecond {
    private StageFunctionSecond() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.Argument(value = 1, readOnly = false, typing = Assigner.Typing.DYNAMIC)
            Object function,
        @DeclaredType(1) Class<?> declared) {
      function = Propagation.stageFunction(function, declared);
    }
  }

  /** A {@code CompletableFuture} stage method whose function is its third argument. */
  static final class StageFunctionThird {
    private StageFunctionThird() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.Argument(value = 2, readOnly = false, typing = Assigner.Typing.DYNAMIC)
            Object function,
        @DeclaredType(2) Class<?> declared) {
      function = Propagation.stageFunction(function, declared);
    }
  }

  /** {@code Thread.start}: the thread will run in a copy of the starter's context. */
  static final class ThreadStart {
    private ThreadStart() {}

    @Advice.OnMethodEnter
    static boolean enter(@Advice.This Thread thread) {
      if (thread.getState() != Thread.State.NEW) {
        return false;
      }
      Propagation.starting(thread);
      return true;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    static void exit(
        @Advice.This Thread thread,
        @Advice.Enter boolean registered,
        @Advice.Thrown Throwable thrown) {
      if (registered && thrown != null) {
        Propagation.startFailed(thread);
      }
    }
  }

  /** A thread's run method (a platform thread's, a virtual thread's body). */
  static final class ThreadRun {
    private ThreadRun() {}

    @Advice.OnMethodEnter
    static Context.Scope enter(@Advice.This Thread thread) {
      return Propagation.running(thread);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    static void exit(@Advice.Enter Context.Scope scope) {
      Propagation.ran(scope);
    }
  }

  /** Code with which a pool starts threads for itself: they start empty. */
  static final class OwnThreads {
    private OwnThreads() {}

    @Advice.OnMethodEnter
    static void enter() {
      Propagation.ownThreadsBegin();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    static void exit() {
      Propagation.ownThreadsEnd();
    }
  }

  /**
   * The static initializer of a second copy of {@code org.contextvars4j.Context} or {@code
   * org.contextvars4j.ThreadState} (the first class a get, set or reset initializes), defined by a
   * class loader that did not ask its parent: it fails, so that the application never runs with
   * two copies of the core (their variables and contexts would not meet).
   */
  static final class SecondCopy {
    private SecondCopy() {}

    // Inlined into a class of that loader, which may not see the agent's: java.* only here.
    @Advice.OnMethodEnter
    static void enter(@Advice.Origin Class<?> type) {
      throw new IllegalStateException(
          "contextvars4j-agent: a second copy of contextvars4j-core was loaded by "
              + type.getClassLoader()
              + "; under the agent, the one copy is in the bootstrap class loader, and code using"
              + " another would not see the context the JDK's executors and threads carry. Make"
              + " that class loader ask its parent for the org.contextvars4j classes (a Tomcat"
              + " web application: <Loader delegate=\"true\"/>), or remove contextvars4j-core"
              + " from it, or run without the agent. If the agent's jar was renamed, give it back"
              + " its name: the JVM then puts it on the bootstrap class path from the start, where"
              + " such loaders (Tomcat's, by default) find the core's class files and use that"
              + " copy.");
    }
  }
}

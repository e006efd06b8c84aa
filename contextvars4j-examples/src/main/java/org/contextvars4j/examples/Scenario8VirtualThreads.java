package org.contextvars4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.contextvars4j.Context;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextThreads;

/**
 * Scenario 8: virtual threads. A new thread, virtual or not, starts in an empty context: {@code
 * Thread.ofVirtual().start(...)} and the tasks of {@link
 * Executors#newVirtualThreadPerTaskExecutor()} do not see the starter's value. {@link
 * ContextThreads#start} and {@link ContextExecutors#newVirtualThreadPerTaskExecutor()} run each
 * body in a copy of the context of the code that handed it over.
 */
final class Scenario8VirtualThreads implements Scenario {

  /**
   * 8a: plain virtual threads.
   *
   * @param starter the value the starting code set
   * @param thread what the body of {@code Thread.ofVirtual().start(...)} saw
   * @param task what a task of {@link Executors#newVirtualThreadPerTaskExecutor()} saw
   */
  record Plain(UUID starter, Seen thread, Seen task) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "Thread.ofVirtual().start(...) sees the starter's value",
              thread.sawBound(starter),
              false),
          new Verdict(
              "a task of Executors.newVirtualThreadPerTaskExecutor() sees the submitter's value",
              task.sawBound(starter),
              false));
    }
  }

  /**
   * 8b: virtual threads started through {@link ContextThreads}.
   *
   * @param starter the value the starting code set
   * @param thread what the body of {@code ContextThreads.start(Thread.ofVirtual(), ...)} saw and
   *     set
   * @param starterAfter what the starting code saw after the thread ended
   * @param atUnstarted the value set when {@code ContextThreads.unstarted} was called
   * @param atStart the value set, later, when that thread was started
   * @param unstarted what that thread's body saw
   */
  record Threads(
      UUID starter,
      Work thread,
      UUID starterAfter,
      UUID atUnstarted,
      UUID atStart,
      Seen unstarted)
      implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "ContextThreads.start(Thread.ofVirtual(), ...) sees the starter's value",
              thread.saw().sawBound(starter),
              true),
          new Verdict(
              "the thread's set reaches the starter", starterAfter.equals(thread.set()), false),
          new Verdict(
              "ContextThreads.unstarted captures at unstarted(), not at start()",
              unstarted.sawBound(atUnstarted) && !atUnstarted.equals(atStart),
              true));
    }
  }

  /**
   * 8c: two tasks of {@link ContextExecutors#newVirtualThreadPerTaskExecutor()}, one after the
   * other.
   *
   * @param submitter the value the submitting code set
   * @param first what the first task saw and set
   * @param second what the second task, submitted after the first had finished, saw
   */
  record PerTask(UUID submitter, Work first, Seen second) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      return List.of(
          new Verdict(
              "each task of ContextExecutors' virtual-thread executor sees the submitter's value",
              first.saw().sawBound(submitter) && second.sawBound(submitter),
              true),
          new Verdict(
              "the second task sees the first task's set", second.sawBound(first.set()), false));
    }
  }

  /**
   * Everything scenario 8 observed.
   *
   * @param plain part 8a
   * @param threads part 8b
   * @param executor part 8c
   */
  record Result(Plain plain, Threads threads, PerTask executor) implements Outcome {

    @Override
    public List<Verdict> verdicts() {
      List<Verdict> all = new ArrayList<>(plain.verdicts());
      all.addAll(threads.verdicts());
      all.addAll(executor.verdicts());
      return List.copyOf(all);
    }
  }

  @Override
  public int number() {
    return 8;
  }

  @Override
  public boolean fromThePost() {
    return false;
  }

  @Override
  public String title() {
    return "virtual threads start in an empty context";
  }

  @Override
  public String python() {
    return "threading.Thread(target=f).start() runs f in a new, empty context (Python 3.14 adds"
        + " Thread(context=...)); asyncio.to_thread(f) and create_task(coro) run in a copy of the"
        + " caller's context.";
  }

  @Override
  public String java() {
    return "Thread.ofVirtual().start(task) and Executors.newVirtualThreadPerTaskExecutor() vs"
        + " ContextThreads.start(Thread.ofVirtual(), task) and"
        + " ContextExecutors.newVirtualThreadPerTaskExecutor()";
  }

  @Override
  public Result play(Demo demo) throws Exception {
    demo.line("  8a. Thread.ofVirtual().start(...), Executors.newVirtualThreadPerTaskExecutor()");
    Plain plain = new Context().call(() -> plain(demo));
    demo.verdicts(plain);
    demo.line("  8b. ContextThreads.start(Thread.ofVirtual(), ...), ContextThreads.unstarted(...)");
    Threads threads = new Context().call(() -> threads(demo));
    demo.verdicts(threads);
    demo.line("  8c. ContextExecutors.newVirtualThreadPerTaskExecutor(): two tasks, one by one");
    PerTask executor = new Context().call(() -> executor(demo));
    demo.verdicts(executor);
    return new Result(plain, threads, executor);
  }

  private static Plain plain(Demo demo) throws Exception {
    UUID starter = demo.newUuid();
    demo.ctx.set(starter);
    demo.show("the starter sets", starter);
    Seen[] seen = new Seen[1];
    Thread thread =
        Thread.ofVirtual()
            .name(Demo.THREAD_PREFIX + "virtual")
            .start(() -> seen[0] = Seen.now(demo.ctx, null));
    thread.join(); // join() makes the array write visible here
    demo.show("Thread.ofVirtual().start: ctx.get()", seen[0]);
    Seen task;
    try (ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor()) {
      task = virtual.submit(() -> Seen.now(demo.ctx, null)).get();
    }
    demo.show("virtual-per-task task: ctx.get()", task);
    return new Plain(starter, seen[0], task);
  }

  private static Threads threads(Demo demo) throws Exception {
    UUID starter = demo.newUuid();
    UUID setByThread = demo.newUuid();
    demo.ctx.set(starter);
    demo.show("the starter sets", starter);
    Work[] work = new Work[1];
    Thread thread =
        ContextThreads.start(
            Thread.ofVirtual().name(Demo.THREAD_PREFIX + "virtual"),
            () -> work[0] = Work.run(demo.ctx, setByThread));
    thread.join(); // join() makes the array write visible here
    work[0].show(demo, "ContextThreads.start:");
    UUID starterAfter = demo.ctx.get();
    demo.show("the starter, after the join, sees", starterAfter);

    // unstarted(...) captures the context now; the thread is started only after a new set.
    UUID atUnstarted = starterAfter;
    Seen[] seen = new Seen[1];
    Thread later =
        ContextThreads.unstarted(
            Thread.ofVirtual().name(Demo.THREAD_PREFIX + "virtual"),
            () -> seen[0] = Seen.now(demo.ctx, null));
    UUID atStart = demo.newUuid();
    demo.ctx.set(atStart);
    demo.show("after unstarted(...), the starter sets", atStart);
    later.start();
    later.join();
    demo.show("the unstarted thread, started, sees", seen[0]);
    return new Threads(starter, work[0], starterAfter, atUnstarted, atStart, seen[0]);
  }

  private static PerTask executor(Demo demo) throws Exception {
    UUID submitter = demo.newUuid();
    UUID setByFirst = demo.newUuid();
    demo.ctx.set(submitter);
    demo.show("the submitter sets", submitter);
    Work first;
    Seen second;
    try (ExecutorService virtual = ContextExecutors.newVirtualThreadPerTaskExecutor()) {
      first = virtual.submit(() -> Work.run(demo.ctx, setByFirst)).get();
      second = virtual.submit(() -> Seen.now(demo.ctx, null)).get();
    }
    first.show(demo, "the first task");
    demo.show("the second task sees", second);
    return new PerTask(submitter, first, second);
  }
}

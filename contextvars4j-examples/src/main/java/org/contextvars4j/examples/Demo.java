package org.contextvars4j.examples;

import java.io.PrintStream;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import org.contextvars4j.ContextVar;

/**
 * What every scenario plays with: the blog's variable {@code ctx}, a source of new uuids, and the
 * printer that makes the output read like the post (uuids shortened to their first 8 hex digits).
 *
 * <p>The uuid source is a parameter so that tests can use predictable uuids; the walkthrough uses
 * {@link UUID#randomUUID()}, as the post does. Verdicts never depend on which uuids come out, only
 * on whether two of them are the same.
 */
final class Demo {

  /** The width at which {@link #labelled} wraps text. */
  static final int WIDTH = 100;

  /** Prefix of every thread the scenarios start, so that a test can check they all ended. */
  static final String THREAD_PREFIX = "cv4j-demo-";

  /** The post's variable: {@code ctx = ContextVar("test_context", default=uuid4())}. */
  final ContextVar<UUID> ctx;

  private final Supplier<UUID> uuids;
  private final PrintStream out;

  /**
   * Creates the demo, and with it a new {@code ctx} whose default is the first uuid of {@code
   * uuids}.
   *
   * @param out where the walkthrough prints
   * @param uuids where new uuids come from ({@code uuid4()} in the post)
   */
  Demo(PrintStream out, Supplier<UUID> uuids) {
    this.out = Objects.requireNonNull(out, "out");
    this.uuids = Objects.requireNonNull(uuids, "uuids");
    this.ctx = ContextVar.named("test_context", uuids.get());
  }

  /** {@return a new uuid (Python {@code uuid4()})} */
  UUID newUuid() {
    return uuids.get();
  }

  /**
   * Prints a line as it is.
   *
   * @param text the line
   */
  void line(String text) {
    out.println(text);
  }

  /**
   * Prints {@code label} and {@code text}, wrapping the text at word boundaries so that no line is
   * longer than {@link #WIDTH}; continuation lines are indented under the text.
   *
   * @param label the label, e.g. {@code "Python showed: "}
   * @param text the text
   */
  void labelled(String label, String text) {
    String indent = " ".repeat(label.length());
    StringBuilder line = new StringBuilder(label);
    for (String word : text.split(" ")) {
      if (line.length() > label.length() && line.length() + 1 + word.length() > WIDTH) {
        out.println(line);
        line = new StringBuilder(indent);
      }
      if (line.length() > label.length()) {
        line.append(' ');
      }
      line.append(word);
    }
    out.println(line);
  }

  /**
   * Prints the verdicts of one scenario or of one part of it, right under the values they judge.
   *
   * @param outcome what the scenario or part observed
   */
  void verdicts(Scenario.Outcome outcome) {
    for (Verdict verdict : outcome.verdicts()) {
      out.println("  verdict: " + verdict.line());
    }
  }

  /**
   * Prints one observed value, e.g. {@code nested_1 sees 1a2b3c4d}.
   *
   * @param who who observed it, and how
   * @param value the value
   */
  void show(String who, UUID value) {
    out.printf("    %-38s %s%n", who, brief(value));
  }

  /**
   * Prints one observed value with a note, e.g. why it is not the value one might expect.
   *
   * @param who who observed it, and how
   * @param value the value
   * @param note the note, shown in parentheses
   */
  void show(String who, UUID value, String note) {
    out.printf("    %-38s %s  (%s)%n", who, brief(value), note);
  }

  /**
   * Prints what a piece of work saw of {@code ctx}, saying where it came from when it was not bound
   * (then {@code ctx.get()} fell back to the default).
   *
   * @param who which work
   * @param seen what it saw
   */
  void show(String who, Seen seen) {
    String where = "on " + seen.thread();
    show(who, seen.value(), seen.bound() ? where : "the default: not bound " + where);
  }

  /**
   * Prints what a piece of work saw in a plain {@link ThreadLocal}.
   *
   * @param who which work
   * @param seen what it saw
   */
  void showThreadLocal(String who, Seen seen) {
    String value = seen.threadLocal() == null ? "null" : brief(seen.threadLocal());
    out.printf("    %-38s %s  (on %s)%n", who, value, seen.thread());
  }

  /**
   * {@return the first 8 hex digits of {@code uuid}: enough to tell the values of one run apart by
   * eye} Verdicts compare whole uuids, never these.
   *
   * @param uuid the uuid
   */
  static String brief(UUID uuid) {
    return uuid.toString().substring(0, 8);
  }

  /**
   * {@return a new pool with one platform thread, named after {@link #THREAD_PREFIX}} One thread,
   * so that consecutive tasks run on the same pooled thread, as consecutive requests often do; the
   * caller must close it.
   *
   * @param name the pool's name, part of its thread's name
   */
  static ExecutorService newSingleThreadPool(String name) {
    return Executors.newSingleThreadExecutor(
        Thread.ofPlatform().name(THREAD_PREFIX + name + "-", 1).factory());
  }

  /**
   * {@return a new pool with {@code threads} platform threads, named after {@link #THREAD_PREFIX}}
   * The caller must close it.
   *
   * @param name the pool's name, part of its threads' names
   * @param threads the number of threads
   */
  static ExecutorService newFixedPool(String name, int threads) {
    return Executors.newFixedThreadPool(
        threads, Thread.ofPlatform().name(THREAD_PREFIX + name + "-", 1).factory());
  }

  /**
   * {@return a new scheduler with one platform thread, named after {@link #THREAD_PREFIX}} The
   * caller must close it.
   *
   * @param name the scheduler's name, part of its thread's name
   */
  static ScheduledExecutorService newSingleThreadScheduler(String name) {
    return Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name(THREAD_PREFIX + name + "-", 1).factory());
  }

  /**
   * {@return the current thread's name, or, for a thread without one (the virtual threads of a
   * virtual-thread-per-task executor), {@code virtual#} and its id}
   */
  static String threadName() {
    Thread thread = Thread.currentThread();
    String name = thread.getName();
    if (!name.isEmpty()) {
      return name;
    }
    return (thread.isVirtual() ? "virtual#" : "thread#") + thread.threadId();
  }
}

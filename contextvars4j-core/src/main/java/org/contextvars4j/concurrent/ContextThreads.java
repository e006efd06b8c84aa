package org.contextvars4j.concurrent;

import java.util.Objects;

/**
 * Threads, platform or virtual, whose body runs in a copy of the context of the code that created
 * them. A plain {@code new Thread(...)} or {@code Thread.ofVirtual().start(...)} starts in an
 * empty context: contexts are not inherited by accident, only handed over on purpose.
 *
 * {@snippet lang = java :
 * Thread worker = ContextThreads.start(Thread.ofVirtual().name("worker"), () -> {
 *   log.info("{}", REQUEST_ID.get());   // the starter's value
 * });
 * }
 *
 * <p>This class is thread-safe (it has no state). Unless otherwise specified, passing a {@code
 * null} argument to a method of this class causes a {@link NullPointerException} to be thrown.
 *
 * @since 0.1
 */
public final class ContextThreads {
  private ContextThreads() {}

  /**
   * Starts a thread made by {@code builder} whose body runs {@code task} in a copy of the
   * current context.
   *
   * @param builder makes the thread ({@link Thread#ofPlatform()} or {@link Thread#ofVirtual()},
   *     configured as wanted); not {@code null}
   * @param task the body; not {@code null}
   * @return the started thread
   * @throws NullPointerException if {@code builder} or {@code task} is {@code null}
   */
  public static Thread start(Thread.Builder builder, Runnable task) {
    Objects.requireNonNull(builder, "builder");
    return builder.start(Captured.runnable(task, "task"));
  }

  /**
   * Returns an unstarted thread made by {@code builder} whose body runs {@code task} in a copy of
   * the context current now (when this method is called, not when the thread is started).
   *
   * @param builder makes the thread; not {@code null}
   * @param task the body; not {@code null}
   * @return the unstarted thread
   * @throws NullPointerException if {@code builder} or {@code task} is {@code null}
   */
  public static Thread unstarted(Thread.Builder builder, Runnable task) {
    Objects.requireNonNull(builder, "builder");
    return builder.unstarted(Captured.runnable(task, "task"));
  }
}

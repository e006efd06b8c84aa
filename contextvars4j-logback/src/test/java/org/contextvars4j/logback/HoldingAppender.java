package org.contextvars4j.logback;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Forwards events to an appender once a latch opens (bounded): the worker side of a test. */
final class HoldingAppender extends AppenderBase<ILoggingEvent> {
  private final MemoryAppender target;
  private final CountDownLatch release;

  HoldingAppender(MemoryAppender target, CountDownLatch release) {
    this.target = target;
    this.release = release;
  }

  @Override
  protected void append(ILoggingEvent event) {
    // The appender's worker may be interrupted meanwhile (AsyncAppender.stop() interrupts it, then
    // lets it drain its queue): wait through interrupts, bounded, and keep the flag for the worker.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    boolean interrupted = false;
    while (release.getCount() > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IllegalStateException("the test never released the appender");
      }
      try {
        release.await(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    target.doAppend(event);
  }
}

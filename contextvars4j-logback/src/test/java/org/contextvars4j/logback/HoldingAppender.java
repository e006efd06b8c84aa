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
    try {
      // Checked first: the appender's worker drains its queue on stop() with its interrupt set.
      if (release.getCount() > 0 && !release.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the appender");
      }
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      return;
    }
    target.doAppend(event);
  }
}

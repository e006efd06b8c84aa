package org.contextvars4j.logback;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** A real Logback appender that keeps each line its pattern layout formats, for tests to read. */
final class MemoryAppender extends AppenderBase<ILoggingEvent> {
  private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
  private final PatternLayout layout = new PatternLayout();

  private MemoryAppender(String pattern) {
    layout.setPattern(pattern);
  }

  /**
   * Makes the root logger of SLF4J's Logback context write only to a new memory appender, through
   * {@code wrap} (an {@code AsyncAppender}, say) when it is given.
   */
  static MemoryAppender installOnRoot(String pattern) {
    return installOnRoot(pattern, null);
  }

  static MemoryAppender installOnRoot(String pattern, Appender<ILoggingEvent> front) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();
    MemoryAppender memory = new MemoryAppender(pattern);
    memory.setContext(context);
    memory.layout.setContext(context);
    memory.layout.start();
    memory.start();
    root.addAppender(front == null ? memory : front);
    return memory;
  }

  @Override
  protected void append(ILoggingEvent event) {
    lines.add(layout.doLayout(event));
  }

  List<String> lines() {
    return List.copyOf(lines);
  }
}

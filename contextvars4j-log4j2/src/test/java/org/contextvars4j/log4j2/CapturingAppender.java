package org.contextvars4j.log4j2;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.AbstractConfiguration;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.logging.log4j.util.ReadOnlyStringMap;

/**
 * A real log4j-core appender that keeps, in memory, the line that a {@link PatternLayout} makes of
 * every event and the event's context data, both taken when the event is appended (on the thread
 * that appends it). {@link #attach} installs it, with a logger of its own, in the running
 * configuration; {@link #close} removes both.
 */
final class CapturingAppender extends AbstractAppender implements AutoCloseable {

  /** The bound on every wait for lines. */
  static final long TIMEOUT_SECONDS = 30;

  private final PatternLayout layout;
  private final Queue<String> lines = new ConcurrentLinkedQueue<>();
  private final Queue<ReadOnlyStringMap> contextData = new ConcurrentLinkedQueue<>();
  private final Queue<String> threads = new ConcurrentLinkedQueue<>();
  private final Semaphore appended = new Semaphore(0);
  private final String loggerName;

  private CapturingAppender(String loggerName, PatternLayout layout) {
    super(loggerName + ".capture", null, layout, false, Property.EMPTY_ARRAY);
    this.layout = layout;
    this.loggerName = loggerName;
  }

  /**
   * Adds a logger named {@code loggerName} (level ALL, not additive) whose only appender is a new
   * capturing appender with {@code pattern}, and returns the appender.
   */
  static CapturingAppender attach(String loggerName, String pattern) {
    return attach(loggerName, pattern, null);
  }

  /**
   * As {@link #attach(String, String)}, with the logger's events going through {@code
   * front}(config, capture) (e.g. an AsyncAppender in front of the capture) when it is not null.
   */
  static CapturingAppender attach(
      String loggerName,
      String pattern,
      BiFunction<Configuration, CapturingAppender, Appender> front) {
    LoggerContext context = LoggerContext.getContext(false);
    Configuration config = context.getConfiguration();
    PatternLayout layout =
        PatternLayout.newBuilder().setPattern(pattern).setConfiguration(config).build();
    CapturingAppender capture = new CapturingAppender(loggerName, layout);
    capture.start();
    config.addAppender(capture);
    Appender first = capture;
    if (front != null) {
      first = front.apply(config, capture);
      first.start();
      config.addAppender(first);
    }
    LoggerConfig loggerConfig =
        LoggerConfig.newBuilder()
            .setLoggerName(loggerName)
            .setLevel(Level.ALL)
            .setAdditivity(false)
            .setConfig(config)
            .build();
    loggerConfig.addAppender(first, null, null);
    config.addLogger(loggerName, loggerConfig);
    context.updateLoggers();
    return capture;
  }

  /** {@return the logger whose events this appender captures} */
  Logger logger() {
    return LogManager.getLogger(loggerName);
  }

  @Override
  public void append(LogEvent event) {
    lines.add(layout.toSerializable(event));
    contextData.add(event.getContextData());
    threads.add(Thread.currentThread().getName());
    appended.release();
  }

  /** {@return the lines captured so far, in the order they were appended} */
  List<String> lines() {
    return new ArrayList<>(lines);
  }

  /** {@return the context data of the events captured so far, in order} */
  List<ReadOnlyStringMap> contextData() {
    return new ArrayList<>(contextData);
  }

  /** {@return the names of the threads that appended the events captured so far, in order} */
  List<String> threads() {
    return new ArrayList<>(threads);
  }

  /** Waits (bounded) until {@code count} more lines than were awaited so far have arrived. */
  List<String> awaitLines(int count) throws InterruptedException, TimeoutException {
    if (!appended.tryAcquire(count, TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      throw new TimeoutException(
          "expected " + count + " more lines within " + TIMEOUT_SECONDS + " s, have " + lines());
    }
    return lines();
  }

  /** Removes the logger and the appenders that {@link #attach} added. */
  @Override
  public void close() {
    LoggerContext context = LoggerContext.getContext(false);
    Configuration config = context.getConfiguration();
    LoggerConfig loggerConfig = config.getLoggers().get(loggerName);
    config.removeLogger(loggerName);
    if (loggerConfig != null) {
      for (Appender appender : loggerConfig.getAppenders().values()) {
        ((AbstractConfiguration) config).removeAppender(appender.getName());
        appender.stop();
      }
    }
    ((AbstractConfiguration) config).removeAppender(getName());
    context.updateLoggers();
    stop();
  }
}

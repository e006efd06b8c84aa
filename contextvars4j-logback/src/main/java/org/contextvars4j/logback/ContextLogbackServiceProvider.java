package org.contextvars4j.logback;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.status.StatusUtil;
import ch.qos.logback.core.util.StatusPrinter2;
import org.contextvars4j.slf4j.ContextMDCAdapter;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.Reporter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * Logback's SLF4J provider, with a {@link ContextMDCAdapter} as the MDC of both SLF4J's {@code MDC}
 * facade and Logback's {@link LoggerContext}: every {@code MDC.put} is a set in the current {@link
 * org.contextvars4j.Context}, and {@code %X{key}} in any pattern shows the values of the context
 * that logged. Everything else is Logback's: the same {@code LoggerContext}, configured the same
 * way ({@code logback-test.xml}, {@code logback.xml}, a {@code Configurator} service, or the
 * default console), so switching providers changes nothing but where the MDC lives.
 *
 * <h2>Activation</h2>
 *
 * Logback's own provider is on the class path beside this one, and SLF4J takes the first provider
 * its service scan finds, so this one is chosen by name:
 *
 * <pre>{@code -Dslf4j.provider=org.contextvars4j.logback.ContextLogbackServiceProvider}</pre>
 *
 * SLF4J then loads it directly, scans nothing and reports no duplicate provider. (Registered as a
 * service, this provider would win or lose by the class path's order: not reliable, so it is not
 * registered.)
 *
 * <h2>Log events and asynchronous appenders</h2>
 *
 * A Logback {@code LoggingEvent} takes its MDC from the adapter on the thread that logs (at
 * latest when an {@code AsyncAppender} queues it), so an event shows the values of the context it
 * was logged in, whichever thread writes it. The map an event takes is a copy that shares the
 * context's immutable map until changed: constant time, whatever the number of entries.
 *
 * <h2>Threads</h2>
 *
 * A new thread starts with an empty MDC (PEP 567), unlike SLF4J's {@code BasicMDCAdapter}; it gets
 * its starter's MDC through {@code ContextThreads} or the contextvars4j agent.
 *
 * <h2>Thread safety</h2>
 *
 * SLF4J creates and initializes the provider once, on one thread; its getters are then safe to
 * call from any thread.
 */
public final class ContextLogbackServiceProvider implements SLF4JServiceProvider {
  /**
   * The SLF4J API version this provider is written for, as Logback 1.5 declares it: SLF4J checks
   * that it is compatible with the API on the class path.
   */
  private static final String REQUESTED_API_VERSION = "2.0.99";

  // SLF4J reads the marker factory and the MDC adapter as early as construction: make them first.
  private final IMarkerFactory markerFactory = new BasicMarkerFactory();
  private final ContextMDCAdapter mdcAdapter = new ContextMDCAdapter();
  private final LoggerContext loggerContext = new LoggerContext();

  /** Creates the provider; SLF4J calls this, then {@link #initialize()}. */
  public ContextLogbackServiceProvider() {}

  /**
   * Names and configures the {@link LoggerContext} as Logback's own provider does, with this
   * provider's {@link ContextMDCAdapter} installed before any configuration runs.
   */
  @Override
  public void initialize() {
    loggerContext.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
    loggerContext.setMDCAdapter(mdcAdapter);
    try {
      new ContextInitializer(loggerContext).autoConfig();
    } catch (JoranException | RuntimeException failure) {
      Reporter.error("Failed to auto configure the default Logback context", failure);
    }
    if (!StatusUtil.contextHasStatusListener(loggerContext)) {
      new StatusPrinter2().printInCaseOfErrorsOrWarnings(loggerContext);
    }
    loggerContext.start();
  }

  /** {@return Logback's {@link LoggerContext}, with the MDC in the context} */
  @Override
  public ILoggerFactory getLoggerFactory() {
    return loggerContext;
  }

  /** {@return the marker factory: SLF4J's basic one, as Logback uses} */
  @Override
  public IMarkerFactory getMarkerFactory() {
    return markerFactory;
  }

  /**
   * {@return the MDC adapter of SLF4J's {@code MDC} facade and of the {@link LoggerContext}: one
   * {@link ContextMDCAdapter}}
   */
  @Override
  public MDCAdapter getMDCAdapter() {
    return mdcAdapter;
  }

  /** {@return the SLF4J API version this provider is written for} */
  @Override
  public String getRequestedApiVersion() {
    return REQUESTED_API_VERSION;
  }
}

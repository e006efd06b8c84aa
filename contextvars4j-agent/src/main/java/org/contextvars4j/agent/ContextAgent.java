package org.contextvars4j.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.net.URISyntaxException;
import java.util.jar.JarFile;

/**
 * The java agent: {@code -javaagent:contextvars4j-agent-VERSION.jar[=option,...]}. With no code
 * change, the JDK's executors, {@code CompletableFuture} and threads carry the {@link
 * org.contextvars4j.Context}: a task runs in a copy of the context current where it was handed
 * over, a dependent stage in a copy of the context current where it was attached, and a thread in
 * a copy of the context current where it was started. See {@link
 * org.contextvars4j.agent.internal.Installer} for what is instrumented and the options.
 *
 * <p>The agent puts its own jar on the bootstrap class path first: the JDK classes it instruments
 * call the core from there, and the application's class loaders, which ask their parent first,
 * find that one copy of {@code contextvars4j-core}.
 *
 * <p>Thread safety: called once by the JVM, before {@code main} or on attach.
 */
public final class ContextAgent {
  private static final String INSTALLER = "org.contextvars4j.agent.internal.Installer";

  private ContextAgent() {}

  /**
   * Installs the agent before the application's {@code main}.
   *
   * @param options the text after {@code =} in {@code -javaagent:...=options}, or {@code null}
   * @param instrumentation the JVM's instrumentation
   * @throws Exception if the agent cannot be installed; the JVM then does not start
   */
  public static void premain(String options, Instrumentation instrumentation) throws Exception {
    install(options, instrumentation);
  }

  /**
   * Installs the agent into a running JVM.
   *
   * @param options the options, as for {@link #premain}
   * @param instrumentation the JVM's instrumentation
   * @throws Exception if the agent cannot be installed
   */
  public static void agentmain(String options, Instrumentation instrumentation) throws Exception {
    install(options, instrumentation);
  }

  private static void install(String options, Instrumentation instrumentation) throws Exception {
    if (!onBootstrapClassPath()) {
      // The manifest's Boot-Class-Path names the jar as it was built: it was renamed.
      instrumentation.appendToBootstrapClassLoaderSearch(new JarFile(ownJar()));
    }
    // Loaded by the bootstrap class loader, with everything it uses: the core, Byte Buddy.
    Class.forName(INSTALLER, true, null)
        .getMethod("install", String.class, Instrumentation.class)
        .invoke(null, options, instrumentation);
  }

  private static boolean onBootstrapClassPath() {
    try {
      Class.forName(INSTALLER, false, null);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static File ownJar() throws URISyntaxException {
    var source = ContextAgent.class.getProtectionDomain().getCodeSource();
    if (source == null || !source.getLocation().getPath().endsWith(".jar")) {
      throw new IllegalStateException(
          "contextvars4j-agent must be started from its jar: -javaagent:contextvars4j-agent-VERSION.jar");
    }
    return new File(source.getLocation().toURI());
  }
}

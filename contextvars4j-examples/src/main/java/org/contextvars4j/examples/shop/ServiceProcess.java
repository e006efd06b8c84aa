package org.contextvars4j.examples.shop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One service in a JVM of its own, started the way a user runs it. With propagation on: the
 * java agent, the MDC in the context ({@code slf4j.provider}), OpenTelemetry's context in the
 * context (its storage provider, found on the class path). Off: none of the three, and the
 * service's own switch (see {@link Service}). The class path is this JVM's.
 */
final class ServiceProcess implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern READY = Pattern.compile("^shop-ready port=(\\d+) (.*)$");

  private final String name;
  private final Process process;
  private final CompletableFuture<String> ready = new CompletableFuture<>();
  private final Path output;
  private final Path log;

  private ServiceProcess(String name, Process process, Path output, Path log) {
    this.name = name;
    this.process = process;
    this.output = output;
    this.log = log;
  }

  /**
   * Starts {@code main} in a new JVM; {@link #awaitPort()} waits until it serves.
   *
   * @param main the service's class
   * @param service the service's name
   * @param on whether the library's propagation is on
   * @param logs the folder of the service's log and output
   * @param properties more system properties, {@code name=value}
   */
  static ServiceProcess start(
      Class<?> main, String service, boolean on, Path logs, List<String> properties)
      throws IOException {
    String mode = on ? "on" : "off";
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    String agent = agentJar();
    if (on) {
      command.add("-javaagent:" + agent);
      command.add("-Dslf4j.provider=org.contextvars4j.logback.ContextLogbackServiceProvider");
    } else {
      command.add("-Dio.opentelemetry.context.contextStorageProvider=default");
    }
    command.add("-Dshop.propagation=" + mode);
    command.add("-Dshop.logs=" + logs.toAbsolutePath());
    command.add("-Xmx512m");
    properties.forEach(p -> command.add("-D" + p));
    command.add("-cp");
    command.add(classPathWithout(agent));
    command.add(main.getName());
    Path output = logs.resolve(service + "-" + mode + ".out");
    Path log = logs.resolve(service + "-" + mode + ".log");
    Files.deleteIfExists(log);
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    ServiceProcess started = new ServiceProcess(service + "-" + mode, process, output, log);
    started.pumpOutput(process.getInputStream());
    return started;
  }

  /** {@return a loopback port free right now, for a service whose address must be known first} */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void pumpOutput(InputStream stream) {
    Thread pump =
        Thread.ofPlatform()
            .daemon()
            .name(name + "-output")
            .start(
                () -> {
                  try (BufferedReader lines =
                          new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
                      PrintWriter file =
                          new PrintWriter(Files.newBufferedWriter(output, StandardCharsets.UTF_8), true)) {
                    for (String line; (line = lines.readLine()) != null; ) {
                      file.println(line);
                      Matcher matcher = READY.matcher(line);
                      if (matcher.matches()) {
                        ready.complete(matcher.group(1) + " " + matcher.group(2));
                      }
                    }
                  } catch (IOException e) {
                    ready.completeExceptionally(e);
                  } finally {
                    ready.completeExceptionally(
                        new IllegalStateException(
                            name + " ended before it served; its output: " + output));
                  }
                });
    pump.setUncaughtExceptionHandler((t, e) -> ready.completeExceptionally(e));
  }

  /**
   * {@return the port the service serves on, once it does}
   *
   * @throws IllegalStateException if it ended first, or did not serve within {@link
   *     #START_TIMEOUT}
   */
  int awaitPort() throws Exception {
    try {
      return Integer.parseInt(ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS).split(" ")[0]);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          name + " did not serve within " + START_TIMEOUT + "; its output: " + output, e);
    }
  }

  /** {@return what the service said of itself when ready: its MDC adapter and storage} */
  String describe() throws Exception {
    String line = ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    return line.substring(line.indexOf(' ') + 1);
  }

  /** {@return the service's log file} */
  Path log() {
    return log;
  }

  String name() {
    return name;
  }

  /** Stops the service: Spring Boot closes on SIGTERM; a JVM that hangs is killed. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
    }
  }

  private static String agentJar() throws IOException {
    Properties shop = new Properties();
    try (InputStream in = ServiceProcess.class.getResourceAsStream("/shop.properties")) {
      if (in == null) {
        throw new IllegalStateException("shop.properties is missing: build the module with Maven");
      }
      shop.load(in);
    }
    String jar = shop.getProperty("agent.jar", "");
    if (jar.isEmpty() || jar.startsWith("${") || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "the agent's jar '" + jar + "' is not built: run Maven's package phase (bin/demo does)");
    }
    return jar;
  }

  private static String classPathWithout(String agent) {
    String separator = System.getProperty("path.separator");
    List<String> kept = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(Pattern.quote(separator))) {
      try {
        if (!entry.isEmpty() && !Files.isSameFile(Path.of(entry), Path.of(agent))) {
          kept.add(entry);
        }
      } catch (IOException e) {
        // An entry that does not exist is kept as it is: the JVM ignores it as well.
        kept.add(entry);
      } catch (UncheckedIOException e) {
        kept.add(entry);
      }
    }
    return String.join(separator, kept);
  }
}

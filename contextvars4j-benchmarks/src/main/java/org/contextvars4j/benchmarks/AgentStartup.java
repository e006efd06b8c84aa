package org.contextvars4j.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Start-up time under a java agent (not JMH): the wall time of a JVM that runs {@link StartupApp}
 * and exits, with no agent and with each agent given, the runs of all of them interleaved so that
 * the machine's drift falls on each alike; the first two rounds are dropped. Prints a Markdown
 * table of medians and minimums, and each agent's overhead over no agent (medians).
 *
 * {@snippet lang = shell :
 * java -cp contextvars4j-benchmarks/target/benchmarks.jar \
 *   org.contextvars4j.benchmarks.AgentStartup 20 \
 *   contextvars4j=contextvars4j-agent/target/contextvars4j-agent-0.1.0-SNAPSHOT.jar \
 *   ttl=transmittable-thread-local-2.14.5.jar
 * }
 *
 * Run by {@code bin/bench startup}.
 */
public final class AgentStartup {
  private static final int DROPPED = 2;

  private AgentStartup() {}

  /**
   * Times the start-ups.
   *
   * @param args the number of rounds measured, then {@code name=agent.jar} for each agent
   * @throws Exception if a JVM fails or does not exit within a minute
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: AgentStartup ROUNDS [name=agent.jar ...]");
    }
    int rounds = Integer.parseInt(args[0]);
    Map<String, List<String>> modes = new LinkedHashMap<>();
    modes.put("no agent", List.of());
    for (int i = 1; i < args.length; i++) {
      String[] named = args[i].split("=", 2);
      if (named.length != 2 || !Files.isRegularFile(Path.of(named[1]))) {
        throw new IllegalArgumentException(
            "agent: name=path-of-an-existing-jar, not \"" + args[i] + "\"");
      }
      modes.put(named[0], List.of("-javaagent:" + named[1]));
    }
    Path app = appClassPath();
    try {
      time(modes, app, rounds);
    } finally {
      try (var files = Files.walk(app)) {
        for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }
  }

  private static void time(Map<String, List<String>> modes, Path app, int rounds)
      throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    System.out.printf(
        Locale.ROOT,
        "Start-up of `StartupApp` (%d rounds, interleaved, after %d dropped; wall ms)%n%n",
        rounds,
        DROPPED);
    System.out.println("| app | agent | median | min | overhead (medians) |");
    System.out.println("|---|---|---:|---:|---:|");
    for (String shape : List.of("pool", "all")) {
      Map<String, List<Double>> times = new LinkedHashMap<>();
      modes.keySet().forEach(mode -> times.put(mode, new ArrayList<>()));
      for (int round = 0; round < rounds + DROPPED; round++) {
        for (Map.Entry<String, List<String>> mode : modes.entrySet()) {
          List<String> command = new ArrayList<>();
          command.add(java);
          command.addAll(mode.getValue());
          command.addAll(List.of("-cp", app.toString(), StartupApp.class.getName(), shape));
          double millis = run(command);
          if (round >= DROPPED) {
            times.get(mode.getKey()).add(millis);
          }
        }
      }
      double none = median(times.get("no agent"));
      for (Map.Entry<String, List<Double>> mode : times.entrySet()) {
        double median = median(mode.getValue());
        System.out.printf(
            Locale.ROOT,
            "| %s | %s | %.0f | %.0f | %s |%n",
            shape,
            mode.getKey(),
            median,
            mode.getValue().stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
            mode.getKey().equals("no agent")
                ? "–"
                : String.format(Locale.ROOT, "%.0f", median - none));
      }
    }
  }

  private static double run(List<String> command) throws IOException, InterruptedException {
    long start = System.nanoTime();
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(
            ProcessBuilder.Redirect.DISCARD).start();
    if (!process.waitFor(1, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException("did not exit within a minute: " + command);
    }
    long elapsed = System.nanoTime() - start;
    if (process.exitValue() != 0) {
      throw new IllegalStateException("exit " + process.exitValue() + ": " + command);
    }
    return elapsed / 1e6;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** A folder holding only the app's class files: the benchmarks jar also holds the core. */
  private static Path appClassPath() throws IOException {
    Path folder = Files.createTempDirectory("contextvars4j-startup");
    String base = StartupApp.class.getName().replace('.', '/');
    for (String suffix : List.of("", "$1")) {
      String resource = "/" + base + suffix + ".class";
      try (InputStream in = AgentStartup.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("no " + resource + " beside AgentStartup");
        }
        Path file = folder.resolve(base + suffix + ".class");
        Files.createDirectories(file.getParent());
        Files.write(file, in.readAllBytes());
      }
    }
    return folder;
  }
}

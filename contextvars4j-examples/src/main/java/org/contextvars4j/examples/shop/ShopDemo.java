package org.contextvars4j.examples.shop;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The main demo ({@code bin/demo}): starts {@link Orders} and {@link Inventory} twice, each in a
 * JVM of its own on a loopback port, once with the library's propagation and once without it
 * (see {@link ServiceProcess}), sends both pairs the same kind of load, with faults, timed in
 * pairs of blocks of one size after the same warm-up, and checks every answer, every observation
 * and every log line (see {@link Verifier}); then probes every pool thread of every service,
 * prints a report with the cost of propagation as measured ratios, and writes an HTML page
 * beside it.
 *
 * <p>{@code bin/demo [requests [concurrency]]}: 20,000 requests with propagation on (a tenth of
 * them, at most 2,000, warm-up), 48 at a time, by default. System properties: {@code cv4j.seed},
 * {@code shop.out} (the folder of the logs and the report), {@code shop.faults} (the share of
 * requests with a fault, 0.08), {@code shop.block} (measured requests per timed block, 1,000),
 * {@code shop.off} (off's blocks over on's, 0.33: off gets as many warm-up requests as on, then
 * as many as on in each pair; on's further blocks are checked, not timed). Loopback only; every
 * wait is bounded; every service is stopped at the end.
 */
public final class ShopDemo {
  private ShopDemo() {}

  /**
   * What to run.
   *
   * @param requests requests with propagation on, the warm-up's included
   * @param concurrency requests in flight at most
   * @param seed the random numbers' seed
   * @param faultShare the share of requests with a fault
   * @param offShare blocks with propagation off, over those with it on: each is timed against
   *     one of on's
   * @param warmUp requests to each pair before the measured ones (checked, not timed); fewer
   *     than {@code requests}
   * @param block the measured requests per timed block, in either mode
   * @param out the folder of the logs, the report and the page
   * @param terminal whether to redraw the progress bar in place
   */
  record Options(
      int requests,
      int concurrency,
      long seed,
      double faultShare,
      double offShare,
      int warmUp,
      int block,
      Path out,
      boolean terminal) {
    Options {
      if (requests < 1 || concurrency < 1 || block < 1 || warmUp < 0 || warmUp >= requests) {
        throw new IllegalArgumentException(
            "requests, concurrency and shop.block must be at least 1, and the warm-up at least 0"
                + " and fewer than the requests; were "
                + requests + ", " + concurrency + ", " + block + ", " + warmUp);
      }
      if (!(faultShare >= 0 && faultShare <= 1) || !(offShare > 0 && offShare <= 1)) {
        throw new IllegalArgumentException(
            "shop.faults must be in [0, 1] and shop.off in (0, 1]; were " + faultShare + ", " + offShare);
      }
    }
  }

  /**
   * What one mode's run found.
   *
   * @param on whether propagation was on
   * @param verifier the checks of every request of the mode
   * @param latencies the latencies of the requests timed against the other mode's, in
   *     nanoseconds, sorted
   * @param seconds the wall time of those requests
   * @param requests every request sent, warm-up included
   * @param hops observations made on another thread than the request's handler
   * @param probes what the probe found, one line per pool thread, both services
   * @param services what each service said of itself
   */
  record ModeRun(
      boolean on,
      Verifier verifier,
      long[] latencies,
      double seconds,
      int requests,
      long hops,
      List<String> probes,
      List<String> services) {

    String mode() {
      return on ? "on" : "off";
    }

    double throughput() {
      return latencies.length / seconds;
    }

    double percentileMillis(double p) {
      if (latencies.length == 0) {
        return Double.NaN;
      }
      int index = (int) Math.ceil(p / 100 * latencies.length) - 1;
      return latencies[Math.max(0, Math.min(latencies.length - 1, index))] / 1e6;
    }

    long leftovers() {
      return probes.stream().filter(p -> !p.endsWith("\tclean")).count();
    }
  }

  /**
   * The whole run.
   *
   * @param on propagation on
   * @param off propagation off
   * @param pairRatios the throughput of an on block over that of the off block paired with it
   * @param sample one request's log lines in both services
   * @param report the report's path
   * @param page the HTML page's path
   */
  record Result(
      ModeRun on, ModeRun off, List<Double> pairRatios, List<String> sample, Path report, Path page) {
    /** {@return whether propagation on got every value right and accounted for every fault} */
    boolean ok() {
      return on.verifier().wrong() == 0
          && on.leftovers() == 0
          && on.verifier().faults().values().stream().allMatch(f -> f[0] == f[1]);
    }
  }

  /**
   * Runs the demo and prints its report; exits with status 1 unless every value was right.
   *
   * @param args optionally the measured requests, then the concurrency
   * @throws Exception if a service cannot start
   */
  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 48;
    Options options =
        new Options(
            requests,
            concurrency,
            Long.getLong("cv4j.seed", System.nanoTime()),
            Double.parseDouble(System.getProperty("shop.faults", "0.08")),
            Double.parseDouble(System.getProperty("shop.off", "0.33")),
            Math.min(2_000, requests / 10),
            Integer.getInteger("shop.block", 1_000),
            Path.of(System.getProperty("shop.out", "contextvars4j-examples/target/shop")),
            System.console() != null);
    Result result = run(options, System.out);
    System.exit(result.ok() ? 0 : 1);
  }

  static Result run(Options options, PrintStream out) throws Exception {
    Path dir = options.out().toAbsolutePath();
    Files.createDirectories(dir);
    out.printf(
        Locale.ROOT,
        "The shop: orders calls inventory, two Spring Boot 4 services, each in a JVM of its own on"
            + " loopback,%nstarted twice: with contextvars4j's propagation on, and off. Seed %d"
            + " (replay with -Dcv4j.seed=%d).%n",
        options.seed(),
        options.seed());
    int inventoryOnPort = ServiceProcess.freePort();
    int inventoryOffPort = ServiceProcess.freePort();
    List<ServiceProcess> services = new ArrayList<>();
    Thread stopAll = new Thread(() -> services.forEach(ShopDemo::stopQuietly));
    Runtime.getRuntime().addShutdownHook(stopAll);
    try {
      ServiceProcess inventoryOn = start(services, Inventory.class, "inventory", true, dir, inventoryOnPort, 0);
      ServiceProcess inventoryOff = start(services, Inventory.class, "inventory", false, dir, inventoryOffPort, 0);
      ServiceProcess ordersOn = start(services, Orders.class, "orders", true, dir, 0, inventoryOnPort);
      ServiceProcess ordersOff = start(services, Orders.class, "orders", false, dir, 0, inventoryOffPort);
      long starting = System.nanoTime();
      int ordersOnPort = ordersOn.awaitPort();
      int ordersOffPort = ordersOff.awaitPort();
      inventoryOn.awaitPort();
      inventoryOff.awaitPort();
      out.printf(
          Locale.ROOT,
          "Started in %.1f s.%n  on:  -javaagent, %s%n  off: no agent, %s, contextvars4j.enabled=false%n",
          (System.nanoTime() - starting) / 1e9,
          ordersOn.describe(),
          ordersOff.describe());

      Random random = new Random(options.seed());
      int measured = options.requests() - options.warmUp();
      // Blocks of one size for both modes: a block's ramp-up and drain cost the same share of
      // its time in either, so their throughputs compare (blocks of unequal size do not).
      int onBlocks = Math.max(1, (int) Math.round((double) measured / options.block()));
      int blockSize = Math.max(1, measured / onBlocks);
      int offBlocks = Math.max(1, (int) Math.round(onBlocks * options.offShare()));
      int offRequests = offBlocks * blockSize;
      // As many warm-up requests for both: each JVM's JIT compiles the same before the timing.
      List<Sent> onWarm = requests(0, options.warmUp(), "on", options, random);
      List<Sent> offWarm = requests(0, options.warmUp(), "off", options, random);
      List<Sent> onLoad = requests(options.warmUp(), measured, "on", options, random);
      List<Sent> offLoad = requests(options.warmUp(), offRequests, "off", options, random);
      out.printf(
          Locale.ROOT,
          "Sending %,d requests with propagation on and %,d off (%,d and %,d of them warm-up), %d at"
              + " a time; %.0f %% with a fault. Timed against each other: %s of blocks of %,d.%n",
          onWarm.size() + onLoad.size(),
          offWarm.size() + offLoad.size(),
          onWarm.size(),
          offWarm.size(),
          options.concurrency(),
          options.faultShare() * 100,
          offBlocks == 1 ? "1 pair" : offBlocks + " pairs",
          blockSize);
      List<Double> pairRatios = new ArrayList<>();
      Load on;
      Load off;
      int total = onWarm.size() + offWarm.size() + onLoad.size() + offLoad.size();
      try (LoadGenerator onClient = new LoadGenerator(ordersOnPort);
          LoadGenerator offClient = new LoadGenerator(ordersOffPort);
          Progress progress = new Progress(out, options.terminal(), total)) {
        on = new Load("on", onClient, onLoad, onBlocks, options.concurrency(), progress);
        off = new Load("off", offClient, offLoad, offBlocks, options.concurrency(), progress);
        progress.phase("warm-up, on");
        on.untimed(onWarm);
        progress.phase("warm-up, off");
        off.untimed(offWarm);
        // Pairs first, each JVM as warm as the other: a JVM that has served more requests has
        // compiled more (the ratio drifts by a third over the first 10,000 requests), so off's
        // blocks are not spread among on's. The pairs alternate which mode goes first, so that
        // a drift within a pair cancels out over two.
        for (int pair = 0; pair < offBlocks; pair++) {
          Load first = pair % 2 == 0 ? on : off;
          Load second = first == on ? off : on;
          String of = "pair " + (pair + 1) + "/" + offBlocks + ", ";
          progress.phase(of + first.mode);
          double firstThroughput = first.timed(first.block(pair));
          progress.phase(of + second.mode);
          double secondThroughput = second.timed(second.block(pair));
          pairRatios.add(
              first == on ? firstThroughput / secondThroughput : secondThroughput / firstThroughput);
        }
        // The rest of on's load: checked like the rest, not timed against off's.
        for (int block = offBlocks; block < onBlocks; block++) {
          progress.phase("block " + (block + 1) + "/" + onBlocks + ", on only");
          on.untimed(on.block(block));
        }
        progress.phase("done");
      }
      Verifier onChecks = on.checks;
      Verifier offChecks = off.checks;
      awaitLateLines(ordersOn.log(), onChecks);
      awaitLateLines(ordersOff.log(), offChecks);
      List<String> onProbes = new ArrayList<>();
      List<String> offProbes = new ArrayList<>();
      try (LoadGenerator probe = new LoadGenerator(ordersOnPort)) {
        probe(probe, "orders", ordersOnPort, onProbes);
        probe(probe, "inventory", inventoryOnPort, onProbes);
        probe(probe, "orders", ordersOffPort, offProbes);
        probe(probe, "inventory", inventoryOffPort, offProbes);
      }
      List<String> onServices = List.of(ordersOn.describe(), inventoryOn.describe());
      List<String> offServices = List.of(ordersOff.describe(), inventoryOff.describe());
      for (ServiceProcess service : services) {
        service.close();
      }
      onChecks.checkLog(ordersOn.log(), false);
      onChecks.checkLog(inventoryOn.log(), true);
      offChecks.checkLog(ordersOff.log(), false);
      offChecks.checkLog(inventoryOff.log(), true);
      List<String> sample = sample(onLoad, onChecks, ordersOn.log(), inventoryOn.log());
      Path report = dir.resolve("report.txt");
      Path page = dir.resolve("report.html");
      Result result =
          new Result(
              on.run(true, onProbes, onServices),
              off.run(false, offProbes, offServices),
              pairRatios,
              sample,
              report,
              page);
      String text = ShopReport.text(result, options);
      Files.writeString(report, text);
      Files.writeString(page, ShopReport.html(result, options));
      out.print(text);
      return result;
    } finally {
      services.forEach(ShopDemo::stopQuietly);
      try {
        Runtime.getRuntime().removeShutdownHook(stopAll);
      } catch (IllegalStateException shuttingDown) {
        // The hook runs already.
      }
    }
  }

  private static ServiceProcess start(
      List<ServiceProcess> services,
      Class<?> main,
      String name,
      boolean on,
      Path dir,
      int port,
      int inventoryPort)
      throws IOException {
    List<String> properties = new ArrayList<>();
    if (port != 0) {
      properties.add("server.port=" + port);
    }
    if (inventoryPort != 0) {
      properties.add("shop.inventory=http://127.0.0.1:" + inventoryPort);
    }
    ServiceProcess service = ServiceProcess.start(main, name, on, dir, properties);
    services.add(service);
    return service;
  }

  private static List<Sent> requests(int from, int count, String mode, Options options, Random random) {
    List<Sent> requests = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      requests.add(Sent.random(from + i, mode, options.faultShare(), random));
    }
    return requests;
  }

  private static List<Sent> slice(List<Sent> all, int block, int blocks) {
    int from = (int) ((long) all.size() * block / blocks);
    int to = (int) ((long) all.size() * (block + 1) / blocks);
    return all.subList(from, to);
  }

  /** One mode's load and what it found, gathered block by block. Confined to the demo's thread. */
  private static final class Load {
    final String mode;
    final Verifier checks = new Verifier();
    private final LoadGenerator client;
    private final List<Sent> measured;
    private final int blocks;
    private final int concurrency;
    private final Progress progress;
    private final List<Long> latencies = new ArrayList<>();
    private int sent;
    private double seconds;
    private long hops;

    Load(
        String mode,
        LoadGenerator client,
        List<Sent> measured,
        int blocks,
        int concurrency,
        Progress progress) {
      this.mode = mode;
      this.client = client;
      this.measured = measured;
      this.blocks = blocks;
      this.concurrency = concurrency;
      this.progress = progress;
    }

    /** {@return block {@code index} of the measured requests, split in as many blocks as asked} */
    List<Sent> block(int index) {
      return slice(measured, index, blocks);
    }

    /** Sends {@code requests} and checks them, untimed. */
    void untimed(List<Sent> requests) throws Exception {
      sent += requests.size();
      record(client.send(requests, concurrency, progress), false);
    }

    /**
     * Sends one block and returns its throughput. Only the sending is timed; the answers are
     * checked after it, and the garbage of the checks collected before the block, so that none
     * of it lands in the timing.
     */
    double timed(List<Sent> block) throws Exception {
      System.gc();
      long start = System.nanoTime();
      List<Answer> answers = client.send(block, concurrency, progress);
      double elapsed = (System.nanoTime() - start) / 1e9;
      sent += block.size();
      seconds += elapsed;
      record(answers, true);
      return answers.size() / elapsed;
    }

    private void record(List<Answer> answers, boolean timed) {
      for (Answer answer : answers) {
        checks.check(answer);
        if (timed) {
          latencies.add(answer.nanos());
        }
        String handlerThread =
            answer.seen().stream()
                .filter(s -> s.step().equals("handler"))
                .map(Observed::thread)
                .findFirst()
                .orElse("");
        hops +=
            answer.seen().stream()
                .filter(s -> !s.step().startsWith("inventory.") && !s.thread().equals(handlerThread))
                .count();
      }
    }

    ModeRun run(boolean on, List<String> probes, List<String> services) {
      long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
      return new ModeRun(on, checks, sorted, seconds, sent, hops, probes, services);
    }
  }

  /** Waits, at most 20 s, until every timed-out request's slow stage has logged its late line. */
  private static void awaitLateLines(Path log, Verifier checks) throws Exception {
    long expected = checks.faults().getOrDefault(Fault.TIMEOUT, new int[2])[0];
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (Verifier.lateLines(log) < expected && System.nanoTime() < deadline) {
      // The stages end SLOW after their request: a bounded poll of the log file.
      Thread.sleep(Orders.SLOW.toMillis());
    }
  }

  private static void probe(LoadGenerator client, String service, int port, List<String> into)
      throws Exception {
    for (String line : client.probe(port)) {
      into.add(service + "\t" + line);
    }
  }

  /** One measured request without a fault, as both services logged it. */
  private static List<String> sample(List<Sent> sent, Verifier checks, Path orders, Path inventory)
      throws IOException {
    String id =
        sent.stream()
            .filter(s -> s.fault() == Fault.NONE && s.givenId() != null)
            .map(Sent::givenId)
            .filter(checks.answersById()::containsKey)
            .findFirst()
            .orElse(null);
    List<String> lines = new ArrayList<>();
    if (id == null) {
      return lines;
    }
    for (Path log : List.of(orders, inventory)) {
      try (var stream = Files.lines(log)) {
        stream
            .filter(l -> l.endsWith(" for=" + id))
            .forEach(l -> lines.add(log.getFileName().toString().replace("-on.log", "") + "  " + l));
      }
    }
    lines.sort(Comparator.comparing(l -> l.substring(l.indexOf("  ") + 2)));
    return lines;
  }

  private static void stopQuietly(ServiceProcess service) {
    try {
      service.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

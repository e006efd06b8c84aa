package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.Servlet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.loader.ParallelWebappClassLoader;
import org.apache.catalina.loader.WebappClassLoaderBase;
import org.apache.catalina.startup.Tomcat;
import org.contextvars4j.Context;
import org.contextvars4j.testapp.LoaderServlet;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A web application deployed to a real embedded Apache Tomcat under the agent, shipping the core
 * in {@code WEB-INF/lib/contextvars4j-core.jar} and its servlet ({@link LoaderServlet}) in {@code
 * WEB-INF/classes}, both loaded by Tomcat's web application class loader ({@link
 * ParallelWebappClassLoader}); requests over HTTP on a random loopback port.
 *
 * <p>How Tomcat's web application class loader ({@code WebappClassLoaderBase.loadClass}) finds a
 * class: first it asks the Java SE class loader (the platform class loader) for the class's
 * <i>file</i>, {@code getResource("org/contextvars4j/Context.class")}, and loads the class from
 * there if the file is found, whatever the delegation mode; then, with {@code delegate=true}, it
 * asks its parent; then it looks in {@code WEB-INF/classes} and {@code WEB-INF/lib}; then, with
 * {@code delegate=false}, it asks its parent. Packages Tomcat always delegates ({@code jakarta.},
 * {@code org.apache.catalina.} and the like) do not include {@code org.contextvars4j}: for them
 * only the first step matters. The platform class loader asks the bootstrap one, so the outcome
 * depends on whether the core's class files are visible as resources of the bootstrap class
 * loader:
 *
 * <table>
 *   <caption>Which copy of the core a web application that ships it gets</caption>
 *   <tr>
 *     <th>agent jar</th>
 *     <th>{@code delegate=false}: child first, Tomcat's default</th>
 *     <th>{@code delegate=true}: parent first</th>
 *   </tr>
 *   <tr>
 *     <td>under its built name, on the bootstrap class path through its manifest's {@code
 *         Boot-Class-Path}: its class files are bootstrap resources</td>
 *     <td>the agent's one copy (found by the first step); the pool task sees the request's
 *         value</td>
 *     <td>the agent's one copy (found by the first step); the pool task sees the request's
 *         value</td>
 *   </tr>
 *   <tr>
 *     <td>renamed, so that the agent appends it to the bootstrap class path itself when it
 *         starts: the bootstrap class loader loads its classes but shows none of its class files
 *         as resources</td>
 *     <td>Tomcat defines its own copy from {@code WEB-INF/lib}: its first use fails with the
 *         agent's {@code IllegalStateException} ("a second copy of contextvars4j-core was loaded
 *         by ParallelWebappClassLoader ..."), in an {@code ExceptionInInitializerError}; each use
 *         after that with a {@code NoClassDefFoundError}</td>
 *     <td>the agent's one copy (the parent, asked before {@code WEB-INF/lib}, loads the class);
 *         the pool task sees the request's value</td>
 *   </tr>
 * </table>
 *
 * <p>The servlet must not come from the test's own class path: the context's parent class loader
 * is the test's without the package {@code org.contextvars4j.testapp} ({@link
 * WithoutTheApplication}), and each test checks that the servlet's class is Tomcat's, not the
 * test's. The renamed-jar case runs in a JVM of its own, started with that jar as its agent; its
 * {@link #main} deploys both modes in one Tomcat and prints the answers.
 *
 * <p>Every wait is bounded; Tomcat is stopped in a {@code finally}.
 */
class WebApplicationLoaderIT {
  private static final String SERVLET = "org.contextvars4j.testapp.LoaderServlet";
  private static final String WEBAPP_LOADER = ParallelWebappClassLoader.class.getName();
  private static final String CORE_JAR = "contextvars4j-core.jar";
  private static final Duration TIMEOUT = Duration.ofSeconds(Support.TIMEOUT_SECONDS);

  /** Tomcat's loggers (java.util.logging), held so that their level stays as set. */
  private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

  private static @Nullable Level tomcatLogLevel;

  @BeforeAll
  static void quietTomcat() {
    // Its start and stop at INFO, twice a test, say nothing these tests look at; warnings stay.
    tomcatLogLevel = TOMCAT_LOG.getLevel();
    TOMCAT_LOG.setLevel(Level.WARNING);
  }

  @AfterAll
  static void restoreTomcatsLogLevel() {
    TOMCAT_LOG.setLevel(tomcatLogLevel);
  }

  @ParameterizedTest(name = "delegate={0}")
  @ValueSource(booleans = {false, true})
  void theWebApplicationsCoreIsTheAgentsOneCopy_andAPoolTaskSeesTheRequestsValue(
      boolean delegate, @TempDir Path dir) throws Exception {
    Path webapp = webApplication(dir.resolve("webapp"));
    Tomcat tomcat = tomcat(dir.resolve("tomcat"));
    try {
      StandardContext context = deploy(tomcat, "/app", webapp, delegate);
      tomcat.start();
      assertThat(context.getState()).isEqualTo(LifecycleState.STARTED);

      Answer first = get(tomcat, "/app/loader?value=request-1");
      Answer second = get(tomcat, "/app/loader?value=request-2");

      assertThat(first.status()).as(first.body()).isEqualTo(200);
      assertThat(first.lines())
          .containsExactly("servlet=" + WEBAPP_LOADER, "core=bootstrap", "pool=request-1");
      assertThat(second.status()).as(second.body()).isEqualTo(200);
      assertThat(second.lines())
          .containsExactly("servlet=" + WEBAPP_LOADER, "core=bootstrap", "pool=request-2");

      ClassLoader loader = context.getLoader().getClassLoader();
      assertThat(loader).isInstanceOf(WebappClassLoaderBase.class);
      assertThat(((WebappClassLoaderBase) loader).getDelegate()).isEqualTo(delegate);
      // The servlet that answered is Tomcat's copy of the class, not the test's.
      Servlet servlet = ((Wrapper) context.findChild("loader")).getServlet();
      assertThat(servlet.getClass().getName()).isEqualTo(SERVLET);
      assertThat(servlet.getClass()).isNotSameAs(LoaderServlet.class);
      assertThat(servlet.getClass().getClassLoader()).isSameAs(loader);
      // The application's loader resolves the core to the agent's copy, though it has its own.
      assertThat(Class.forName(Context.class.getName(), false, loader)).isSameAs(Context.class);
      URL coreFile = loader.getResource("org/contextvars4j/Context.class");
      if (delegate) {
        // Parent first, from the parent: the agent's jar, as the system class loader shows it.
        assertThat(coreFile)
            .hasToString(
                ClassLoader.getSystemResource("org/contextvars4j/Context.class").toString());
      } else {
        // Child first, resources come from the application: its copy of the core is there.
        assertThat(coreFile.toString()).endsWith(CORE_JAR + "!/org/contextvars4j/Context.class");
      }
    } finally {
      stop(tomcat);
    }
  }

  @Test
  void underARenamedAgentJar_childFirstDefinesItsOwnCopy_failingAtFirstUse_parentFirstDoesNot(
      @TempDir Path dir) throws Exception {
    Path webapp = webApplication(dir.resolve("webapp"));
    Path agent = Files.createDirectories(dir.resolve("agent")).resolve("renamed-agent.jar");
    Files.copy(agentJar(), agent);
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(
                java.toString(),
                "-javaagent:" + agent,
                "-cp",
                System.getProperty("java.class.path"),
                WebApplicationLoaderIT.class.getName(),
                dir.resolve("tomcat").toString(),
                webapp.toString())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    boolean ended = process.waitFor(2 * TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (!ended) {
      process.destroyForcibly().waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
    String output = Files.readString(out) + "\n--- standard error:\n" + Files.readString(err);
    assertThat(ended).as("the JVM ends; %s", output).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    Map<String, Answer> answers = answers(Files.readString(out));
    assertThat(answers)
        .as(output)
        .containsOnlyKeys("child-first 1", "child-first 2", "parent-first");

    Answer firstUse = answers.get("child-first 1");
    assertThat(firstUse.status()).as(output).isEqualTo(500);
    assertThat(firstUse.lines())
        .as(output)
        .startsWith("servlet=" + WEBAPP_LOADER, "core=" + WEBAPP_LOADER)
        .contains(
            "cause=java.lang.IllegalStateException: contextvars4j-agent: a second copy of"
                + " contextvars4j-core was loaded by "
                + WEBAPP_LOADER.substring(WEBAPP_LOADER.lastIndexOf('.') + 1));
    assertThat(firstUse.lines().get(2)).startsWith("failure=java.lang.ExceptionInInitializerError");
    assertThat(firstUse.body())
        .contains("ask its parent for the org.contextvars4j classes")
        .doesNotContain("pool=");

    Answer laterUse = answers.get("child-first 2");
    assertThat(laterUse.status()).as(output).isEqualTo(500);
    assertThat(laterUse.lines())
        .as(output)
        .startsWith("servlet=" + WEBAPP_LOADER, "core=" + WEBAPP_LOADER)
        .doesNotContain("pool=child-first");
    // The class named is the copy's ThreadState or Context, whose initializer failed at the first
    // use, or the first class whose initialisation needed one of them.
    assertThat(laterUse.lines().get(2))
        .startsWith(
            "failure=java.lang.NoClassDefFoundError: Could not initialize class"
                + " org.contextvars4j.");

    Answer parentFirst = answers.get("parent-first");
    assertThat(parentFirst.status()).as(output).isEqualTo(200);
    assertThat(parentFirst.lines())
        .as(output)
        .containsExactly("servlet=" + WEBAPP_LOADER, "core=bootstrap", "pool=parent-first");
  }

  /**
   * The JVM of the renamed-jar case: deploys {@code webapp} twice, child first at {@code
   * /child-first} and parent first at {@code /parent-first}, and prints each answer as {@code
   * ### name status} and the body's lines.
   *
   * @param args Tomcat's base folder, the web application's folder
   * @throws Exception if Tomcat does not start or a request fails
   */
  public static void main(String[] args) throws Exception {
    TOMCAT_LOG.setLevel(Level.WARNING);
    Tomcat tomcat = tomcat(Path.of(args[0]));
    try {
      Path webapp = Path.of(args[1]);
      deploy(tomcat, "/child-first", webapp, false);
      deploy(tomcat, "/parent-first", webapp, true);
      tomcat.start();
      StringBuilder report = new StringBuilder();
      Map<String, String> requests = new LinkedHashMap<>();
      requests.put("child-first 1", "/child-first/loader?value=child-first");
      requests.put("child-first 2", "/child-first/loader?value=child-first");
      requests.put("parent-first", "/parent-first/loader?value=parent-first");
      for (var request : requests.entrySet()) {
        Answer answer = get(tomcat, request.getValue());
        report.append("### ").append(request.getKey()).append(' ').append(answer.status());
        report.append('\n').append(answer.body());
      }
      System.out.print(report);
      System.out.flush();
    } finally {
      stop(tomcat);
    }
  }

  /** An HTTP answer. */
  record Answer(int status, String body) {
    List<String> lines() {
      return body.lines().toList();
    }
  }

  /** The answers {@link #main} printed, by name. */
  private static Map<String, Answer> answers(String printed) {
    Map<String, Answer> answers = new LinkedHashMap<>();
    String name = null;
    int status = 0;
    StringBuilder body = new StringBuilder();
    for (String line : printed.lines().toList()) {
      if (line.startsWith("### ")) {
        if (name != null) {
          answers.put(name, new Answer(status, body.toString()));
        }
        int space = line.lastIndexOf(' ');
        name = line.substring(4, space);
        status = Integer.parseInt(line.substring(space + 1));
        body.setLength(0);
      } else if (name != null) {
        body.append(line).append('\n');
      }
    }
    if (name != null) {
      answers.put(name, new Answer(status, body.toString()));
    }
    return answers;
  }

  /** An embedded Tomcat with one HTTP connector on a free loopback port, not started. */
  private static Tomcat tomcat(Path base) throws IOException {
    Files.createDirectories(base.resolve("webapps"));
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(base.toString());
    Connector connector = new Connector();
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    tomcat.getHost().setAutoDeploy(false);
    return tomcat;
  }

  /**
   * Adds the web application in {@code webapp} at {@code path}, its servlet mapped to {@code
   * /loader}: Tomcat loads the servlet's class by name, with the application's class loader.
   */
  private static StandardContext deploy(Tomcat tomcat, String path, Path webapp, boolean delegate) {
    StandardContext context =
        (StandardContext) tomcat.addContext(tomcat.getHost(), path, webapp.toString());
    context.setDelegate(delegate);
    context.setParentClassLoader(
        new WithoutTheApplication(WebApplicationLoaderIT.class.getClassLoader()));
    // Leak checks that need --add-opens, which these JVMs do not have: they would only warn.
    context.setClearReferencesThreadLocals(false);
    context.setClearReferencesRmiTargets(false);
    Tomcat.addServlet(context, "loader", SERVLET);
    context.addServletMappingDecoded("/loader", "loader");
    return context;
  }

  /** Stops and destroys {@code tomcat}, waiting (as Tomcat does, bounded) for its threads. */
  private static void stop(Tomcat tomcat) throws LifecycleException {
    try {
      tomcat.stop();
    } finally {
      tomcat.destroy();
    }
  }

  /** GETs {@code path} from {@code tomcat}'s connector, bounded. */
  private static Answer get(Tomcat tomcat, String path) throws Exception {
    int port = tomcat.getConnector().getLocalPort();
    assertThat(port).as("the connector's port").isPositive();
    try (HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(TIMEOUT)
              .GET()
              .build();
      HttpResponse<String> response =
          client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(response.statusCode(), response.body());
    }
  }

  /**
   * The web application's folder: the servlet's class file (its bytes, copied from the test's
   * classes) in {@code WEB-INF/classes}, the core in {@code WEB-INF/lib}.
   */
  private static Path webApplication(Path root) throws Exception {
    String servlet = SERVLET.replace('.', '/') + ".class";
    Path classFile = root.resolve("WEB-INF/classes").resolve(servlet);
    Files.createDirectories(classFile.getParent());
    try (InputStream in = LoaderServlet.class.getClassLoader().getResourceAsStream(servlet)) {
      Files.write(classFile, in.readAllBytes());
    }
    Path lib = Files.createDirectories(root.resolve("WEB-INF/lib"));
    Files.write(lib.resolve(CORE_JAR), coreJar());
    return root;
  }

  /** The core's classes, as an application ships them: the agent jar's, in a jar of their own. */
  private static byte[] coreJar() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JarFile agent = new JarFile(agentJar().toFile());
        JarOutputStream out = new JarOutputStream(bytes)) {
      for (JarEntry entry : List.copyOf(agent.stream().toList())) {
        String name = entry.getName();
        if (name.startsWith("org/contextvars4j/")
            && !name.startsWith("org/contextvars4j/agent/")
            && name.endsWith(".class")) {
          try (InputStream in = agent.getInputStream(entry)) {
            out.putNextEntry(new JarEntry(name));
            out.write(in.readAllBytes());
            out.closeEntry();
          }
        }
      }
    }
    return bytes.toByteArray();
  }

  /** The agent's jar: where the system class loader finds the core (the bootstrap's copy). */
  private static Path agentJar() throws Exception {
    URL url = ClassLoader.getSystemResource("org/contextvars4j/Context.class");
    assertThat(url.getProtocol()).isEqualTo("jar");
    String file = url.getFile();
    return Path.of(new URL(file.substring(0, file.indexOf("!/"))).toURI());
  }

  /**
   * The web applications' parent class loader: the test's, without the web application's package
   * {@code org.contextvars4j.testapp}, whose classes on the test's class path a parent-first
   * application would otherwise get.
   */
  private static final class WithoutTheApplication extends URLClassLoader {
    private static final String PACKAGE = "org.contextvars4j.testapp.";
    private static final String FOLDER = PACKAGE.replace('.', '/');

    WithoutTheApplication(ClassLoader parent) {
      // A URLClassLoader of no URLs: Tomcat, which lists its loaders' URLs, knows the kind.
      super(new URL[0], parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.startsWith(PACKAGE)) {
        throw new ClassNotFoundException(name);
      }
      return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(String name) {
      return name.startsWith(FOLDER) ? null : super.getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
      return name.startsWith(FOLDER) ? Collections.emptyEnumeration() : super.getResources(name);
    }

    @Override
    public String toString() {
      return "the test's class loader without " + PACKAGE;
    }
  }
}

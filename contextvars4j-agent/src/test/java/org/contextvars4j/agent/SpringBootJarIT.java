package org.contextvars4j.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import org.contextvars4j.testapp.BootJarMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Spring Boot executable jar ({@code java -jar}, Spring Boot's own {@code JarLauncher} and
 * class loader, the core in {@code BOOT-INF/lib}) run under the agent: the application's
 * {@code org.contextvars4j} classes are the agent's one copy, and its pool carries the context.
 */
class SpringBootJarIT {

  @Test
  void anExecutableJarsApplicationUsesTheOneCopy_andItsPoolsCarryTheContext(@TempDir Path dir)
      throws Exception {
    Path jar = executableJar(dir.resolve("app.jar"));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(java.toString(), "-javaagent:" + agentJar(), "-jar", jar.toString())
            .redirectErrorStream(true)
            .start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the application ends").isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output.lines().toList())
        .as(output)
        .contains(
            "core=bootstrap",
            "app=org.springframework.boot.loader.launch.LaunchedClassLoader",
            "pool=main");
  }

  /** The layout Spring Boot's build plugins write: the loader at the root, nested jars stored. */
  private static Path executableJar(Path target) throws Exception {
    Manifest manifest = new Manifest();
    Attributes main = manifest.getMainAttributes();
    main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    main.put(Attributes.Name.MAIN_CLASS, "org.springframework.boot.loader.launch.JarLauncher");
    main.putValue("Start-Class", BootJarMain.class.getName());
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target), manifest)) {
      Path loaderJar = locationOf("org/springframework/boot/loader/launch/JarLauncher.class");
      try (JarFile loader = new JarFile(loaderJar.toFile())) {
        for (JarEntry entry : List.copyOf(loader.stream().toList())) {
          if (!entry.isDirectory() && !entry.getName().startsWith("META-INF/")) {
            copy(loader, entry, entry.getName(), out);
          }
        }
      }
      String app = BootJarMain.class.getName().replace('.', '/') + ".class";
      // Its class loader finds BOOT-INF/classes/ and BOOT-INF/lib/ by their directory entries.
      String folder = "";
      for (String part : ("BOOT-INF/classes/" + app).split("/")) {
        if (part.endsWith(".class")) {
          break;
        }
        folder += part + "/";
        out.putNextEntry(new JarEntry(folder));
        out.closeEntry();
      }
      out.putNextEntry(new JarEntry("BOOT-INF/lib/"));
      out.closeEntry();
      try (InputStream in = BootJarMain.class.getClassLoader().getResourceAsStream(app)) {
        put(out, "BOOT-INF/classes/" + app, in.readAllBytes(), false);
      }
      put(out, "BOOT-INF/lib/contextvars4j-core.jar", coreJar(), true);
    }
    return target;
  }

  /** The core's classes, as the application ships them: a jar of its own. */
  private static byte[] coreJar() throws Exception {
    var bytes = new java.io.ByteArrayOutputStream();
    try (JarFile agent = new JarFile(agentJar().toFile());
        JarOutputStream out = new JarOutputStream(bytes)) {
      for (JarEntry entry : List.copyOf(agent.stream().toList())) {
        String name = entry.getName();
        if (name.startsWith("org/contextvars4j/")
            && !name.startsWith("org/contextvars4j/agent/")
            && name.endsWith(".class")) {
          copy(agent, entry, name, out);
        }
      }
    }
    return bytes.toByteArray();
  }

  private static void copy(JarFile from, JarEntry entry, String name, JarOutputStream out)
      throws IOException {
    try (InputStream in = from.getInputStream(entry)) {
      put(out, name, in.readAllBytes(), false);
    }
  }

  private static void put(JarOutputStream out, String name, byte[] content, boolean stored)
      throws IOException {
    JarEntry entry = new JarEntry(name);
    if (stored) {
      // Spring Boot reads nested jars in place: they must be stored, not deflated.
      CRC32 crc = new CRC32();
      crc.update(content);
      entry.setMethod(ZipEntry.STORED);
      entry.setSize(content.length);
      entry.setCompressedSize(content.length);
      entry.setCrc(crc.getValue());
    }
    out.putNextEntry(entry);
    out.write(content);
    out.closeEntry();
  }

  private static Path agentJar() throws Exception {
    return locationOf("org/contextvars4j/Context.class");
  }

  /** The jar the system class loader finds {@code resource} in. */
  private static Path locationOf(String resource) throws Exception {
    URL url = ClassLoader.getSystemResource(resource);
    String file = url.getFile();
    return Path.of(new URL(file.substring(0, file.indexOf("!/"))).toURI());
  }
}

package io.hessianatlas.common.model.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** The SHA-256 of model files for run manifests: one digest over their bytes, file after file. */
final class FileDigest {
    private static final int BUFFER = 1 << 16;

    private FileDigest() {
    }

    /**
     * SHA-256 (lower-case hex) of the bytes of {@code files} in the order given.
     *
     * @throws ModelFormatException naming the file that cannot be read
     */
    static String sha256(List<Path> files) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
        byte[] buf = new byte[BUFFER];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    sha.update(buf, 0, n);
                }
            } catch (IOException e) {
                throw new ModelFormatException(f + ": cannot read for digest: " + ModelJson.oneLine(String.valueOf(e)), e);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}

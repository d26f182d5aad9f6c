package io.hessianatlas.jobs.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The tests' {@code file:} filesystem (test resource core-site.xml): Hadoop's LocalFileSystem, except
 * that a permission is set through java.nio instead of a {@code chmod} child process. Without
 * Hadoop's native library (not on a Maven classpath), RawLocalFileSystem forks {@code chmod} for every
 * file and folder it creates with a permission: about 55 processes per in-process `analyze` run
 * (staging folder, each table's part files, their .crc files and _SUCCESS markers), some 15,000 per
 * `mvn verify`. The same POSIX mode bits are set; everything else is Hadoop's own code.
 */
public final class NioPermissionsLocalFileSystem extends LocalFileSystem {
    public NioPermissionsLocalFileSystem() {
        super(new NioPermissions());
    }

    /** RawLocalFileSystem whose setPermission is a java.nio call (the sticky bit, if asked, goes the old way). */
    static final class NioPermissions extends RawLocalFileSystem {
        @Override
        public void setPermission(Path p, FsPermission permission) throws IOException {
            if (permission.getStickyBit()) {
                super.setPermission(p, permission);
                return;
            }
            Files.setPosixFilePermissions(pathToFile(p).toPath(), posix(permission.toShort()));
        }

        static Set<PosixFilePermission> posix(short mode) {
            Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
            PosixFilePermission[] bits = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
            for (int i = 0; i < bits.length; i++) {
                if ((mode & (1 << i)) != 0) {
                    s.add(bits[i]);
                }
            }
            return s;
        }
    }
}

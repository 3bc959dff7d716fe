/** Prints the scrypt hash of a password for config/users.json: `tsx scripts/hash-password.ts <password>`. */
import { hashPassword } from "../src/server/auth";

const pw = process.argv[2];
if (!pw) {
  process.stderr.write("usage: tsx scripts/hash-password.ts <password>\n");
  process.exit(2);
}
process.stdout.write(`${await hashPassword(pw)}\n`);

/**
 * Fault scenarios on the book of 2,000 accounts (src/book-suite.ts): the ones about end-of-day itself — billing
 * killed mid-run, the broker stopped mid-run — and collections killed in the Overdue burst that follows it.
 */
import { bookSuite } from "../src/book-suite";

bookSuite({ title: "fault suite: the book (2,000 accounts)", tag: "fault-book", accounts: 2_000, scenarios: ["billing", "kafka", "collections"] });

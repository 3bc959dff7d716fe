/**
 * Fault scenarios on a book of 1,000 accounts (src/book-suite.ts): what the other services do with the day's facts —
 * credit-reporting killed while scores change, notification killed mid due wave — the database stopped while
 * payments flow, and end-of-day asked again right after it completed. The same script as the 2,000-account book,
 * with half the accounts: the proof is the same, and it takes less of the suite's time.
 */
import { bookSuite } from "../src/book-suite";

bookSuite({ title: "fault suite: the book's reactions (1,000 accounts)", tag: "fault-reactions", accounts: 1_000, scenarios: ["reporting", "notification", "database", "rerun"] });

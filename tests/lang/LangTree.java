// SPDX-License-Identifier: MIT OR GPL-2.0-only
// A Java program with a known call tree, forced collections, known
// allocations and a named thread, for tests/lang/test_lang_tools.c.
//   tree: LangTree.top -> mid(3) -> leaf x3, mid(2) -> leaf x2
//   gc: 3 System.gc(); objects: 7 LangTree$Widget; thread: "lang-worker"
public class LangTree {
	static class Widget {
	}

	static int leaf(int i) {
		return i + 1;
	}

	static int mid(int n) {
		int s = 0;
		for (int i = 0; i < n; i++)
			s += leaf(i);
		return s;
	}

	static int top() {
		return mid(3) + mid(2);
	}

	public static void main(String[] args) throws Exception {
		top();
		Object[] keep = new Object[7];
		for (int i = 0; i < 7; i++)
			keep[i] = new Widget();
		Thread t = new Thread(() -> leaf(1), "lang-worker");
		t.start();
		t.join();
		for (int i = 0; i < 3; i++)
			System.gc();
		System.out.println("widgets=" + keep.length);
	}
}
